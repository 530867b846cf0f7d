import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.ts';

/**
 * The address browsers use: MASKWATCH_PUBLIC_URL, else the request's scheme and Host (a trusted proxy's
 * forwarded ones). What is built on it only works at that address: an identity provider accepts only its
 * registered redirect URIs, and a browser signs a security key's challenge only for the page's own origin.
 */
export function publicOrigin(config: Config, request: FastifyRequest): string {
  return config.security.publicUrl ?? `${request.protocol}://${request.host}`;
}
