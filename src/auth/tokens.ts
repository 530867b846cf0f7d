import { createHash, randomBytes } from 'node:crypto';

/** Login tokens and camera API keys: 256-bit random, shown once, stored only as sha256. */
export const SESSION_TOKEN_PREFIX = 'mwt_';
export const CAMERA_KEY_PREFIX = 'mwc_';

function randomSecret(prefix: string): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function newSessionToken(): string {
  return randomSecret(SESSION_TOKEN_PREFIX);
}

export function newCameraApiKey(): string {
  return randomSecret(CAMERA_KEY_PREFIX);
}

/** sha256 hex: the secrets are high-entropy, so a fast hash is enough and can be looked up by index. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Last 4 characters, to tell keys apart in the UI without revealing them. */
export function secretHint(secret: string): string {
  return secret.slice(-4);
}

/** Extracts the token of an `Authorization: Bearer <token>` header; null if absent or malformed. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+([A-Za-z0-9_\-.~+/=]{8,256})\s*$/i.exec(header);
  return match ? match[1]! : null;
}
