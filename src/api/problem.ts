import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { ServiceError, type ServiceErrorKind } from '../services/errors.ts';
import { databaseFailureReason, isDatabaseUnavailable } from '../db/unavailable.ts';

/**
 * Errors as RFC 9457 problem details (`application/problem+json`):
 * `{type, title, status, detail}`. Route handlers throw `HttpProblem`; the error
 * handler turns Fastify's own errors (validation, 404, body too large, bad
 * content type) into the same shape.
 */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** Per-field reasons for a validation failure. */
  errors?: { path: string; message: string }[];
  /** 401 mfa-required of a login whose account has security keys: the challenge for them. */
  securityKey?: object;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly slug?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

/** The one mapping from a use case's refusal to HTTP. */
export const SERVICE_STATUS: Record<ServiceErrorKind, number> = { NOT_FOUND: 404, INVALID: 400, FORBIDDEN: 403, CONFLICT: 409, TOO_MANY: 429, UNAVAILABLE: 503 };

export function serviceProblem(err: ServiceError): HttpProblem {
  const headers: Record<string, string> = err.retryAfterSeconds !== undefined ? { 'retry-after': String(err.retryAfterSeconds) } : {};
  return new HttpProblem(SERVICE_STATUS[err.kind], err.message, err.code, headers);
}

function problemType(status: number, slug?: string): string {
  return `https://maskwatch.dev/problems/${slug ?? (STATUS_CODES[status] ?? 'error').toLowerCase().replace(/[^a-z]+/g, '-')}`;
}

export function problem(status: number, detail?: string, slug?: string): ProblemBody {
  const body: ProblemBody = { type: problemType(status, slug), title: STATUS_CODES[status] ?? 'Error', status };
  if (detail) body.detail = detail;
  return body;
}

export function sendProblem(reply: FastifyReply, body: ProblemBody, headers: Record<string, string> = {}) {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.code(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** JSON schema of a problem body, referenced by every route's 4xx/5xx responses. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
    securityKey: {
      type: 'object',
      additionalProperties: true,
      description:
        'only in a login\'s 401 mfa-required, when the account has security keys: PublicKeyCredentialRequestOptionsJSON for navigator.credentials.get; send its answer as the login\'s `securityKey`',
    },
  },
} as const;

/** `response` entries to spread into each route schema: the body and its media type, as sent. */
export const problemResponses = {
  '4xx': { description: 'problem details', content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } } },
  '5xx': { description: 'problem details', content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: 'Problem#' } } } },
} as const;

/** A 200 whose body is not JSON (images, CSV, metrics), documented with its media type. */
export function rawResponse(mediaType: string, description: string) {
  const schema = mediaType.startsWith('text/') ? { type: 'string' } : { type: 'string', format: 'binary' };
  return { description, content: { [mediaType]: { schema } } } as const;
}

const FASTIFY_CODES: Record<string, { status: number; slug: string; detail?: (e: FastifyError) => string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, slug: 'body-too-large', detail: () => 'request body is larger than allowed' },
  // The routes reaching this (all but the uploads, which check their own types first) take JSON.
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, slug: 'unsupported-media-type', detail: () => 'this route takes a JSON body: Content-Type must be application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, slug: 'bad-content-length' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, slug: 'unsupported-media-type', detail: () => 'Content-Type header is required' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, slug: 'invalid-json' },
};

/** Errors of the router itself (a malformed URL, a path parameter over maxParamLength), before any route runs. */
export function problemFrameworkErrorHandler(error: FastifyError, _request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  return sendProblem(reply, problem(status, error.message, status === 414 ? 'uri-too-long' : 'bad-url'));
}

const DATABASE_DOWN = 'the database is unavailable; retry later';
const DATABASE_RETRY_S = 5;

export function registerProblemHandlers(app: FastifyInstance): void {
  app.addSchema(problemSchema);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpProblem) {
      return sendProblem(reply, problem(error.status, error.detail, error.slug), error.headers);
    }
    if (error instanceof ServiceError) {
      const p = serviceProblem(error);
      return sendProblem(reply, problem(p.status, p.detail, p.slug), p.headers);
    }
    if (error.validation) {
      const errors = error.validation.map((v) => {
        // Ajv says "must NOT have additional properties" without naming the one: name it.
        const extra = v.keyword === 'additionalProperties' ? (v.params as { additionalProperty?: string }).additionalProperty : undefined;
        return {
          path: `${error.validationContext ?? 'request'}${v.instancePath || ''}`,
          message: extra === undefined ? (v.message ?? 'invalid') : `must NOT have the unknown property "${extra}"`,
        };
      });
      const body = problem(400, errors.map((e) => `${e.path} ${e.message}`).join('; '), 'validation');
      body.errors = errors;
      return sendProblem(reply, body);
    }
    if (isDatabaseUnavailable(error)) {
      // Like Redis being away (services/cameras.ts): 503 and a retry, not a 500 with a stack per request.
      request.log.warn({ reason: databaseFailureReason(error) }, 'database unavailable');
      const p = serviceProblem(new ServiceError('UNAVAILABLE', DATABASE_DOWN, 'database-unavailable', DATABASE_RETRY_S));
      return sendProblem(reply, problem(p.status, p.detail, p.slug), p.headers);
    }
    const known = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (known) return sendProblem(reply, problem(known.status, known.detail?.(error) ?? error.message, known.slug));
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      // Never leak internals in a 5xx body.
      return sendProblem(reply, problem(status, 'an unexpected error occurred; see the server log', 'internal'));
    }
    return sendProblem(reply, problem(status, error.message));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, `no route for ${request.method} ${request.url.split('?')[0]}`, 'not-found')),
  );
}
