/**
 * When the dashboard renews its login (pure, unit-tested). A dispatcher keeps
 * the console open for a whole shift, longer than one token lives: the page
 * renews the token once half of its lifetime has passed (POST
 * /api/v1/auth/refresh), so a renewal that fails (server restarting, network
 * blip) has the other half to be retried, and never reloads the page.
 */
export interface TokenLife {
  /** When the page received the token (its clock). */
  issuedAt: number;
  /** Server's expiry, as the page's clock reads it. */
  expiresAt: number;
}

export type SessionPhase = 'fresh' | 'renew' | 'expired';

/** Retry a failed renewal after this long, at most. */
export const RENEW_RETRY_MS = 15_000;

export function renewAt(life: TokenLife): number {
  return life.issuedAt + Math.max(0, life.expiresAt - life.issuedAt) / 2;
}

export function sessionPhase(life: TokenLife, now: number): SessionPhase {
  if (now >= life.expiresAt) return 'expired';
  return now >= renewAt(life) ? 'renew' : 'fresh';
}

/** Delay until the next check: the renewal time, or a retry soon when it is already due. */
export function nextCheckDelay(life: TokenLife, now: number): number {
  const due = renewAt(life) - now;
  if (due > 0) return due;
  return Math.max(1000, Math.min(RENEW_RETRY_MS, (life.expiresAt - now) / 4));
}

/**
 * The server's expiry moved onto the page's clock: the lifetime the server
 * granted, counted from when the response arrived (the two clocks may differ).
 */
export function lifeFromResponse(expiresAtIso: string, serverNow: number | null, receivedAt: number): TokenLife | null {
  const exp = Date.parse(expiresAtIso);
  if (Number.isNaN(exp)) return null;
  const ttl = exp - (serverNow ?? receivedAt);
  return { issuedAt: receivedAt, expiresAt: receivedAt + Math.max(0, ttl) };
}
