/** How far in the future a camera clock may be before its timestamp is refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

// ISO 8601 date-time with an explicit zone (Z or ±hh:mm): a zoneless time is ambiguous.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

export type CapturedAtResult = { ok: true; value: Date } | { ok: false; reason: string };

/**
 * The capture time of a frame: the given ISO 8601 timestamp, or `now` when
 * absent. Pure, so the rules are unit-tested without a server.
 */
export function parseCapturedAt(raw: string | undefined, now: Date, maxFutureMs = MAX_CLOCK_SKEW_MS, maxAgeMs = Infinity): CapturedAtResult {
  if (raw === undefined || raw === '') return { ok: true, value: now };
  if (!ISO_DATE_TIME.test(raw)) {
    return { ok: false, reason: `capturedAt must be an ISO 8601 date-time with a time zone, got "${raw.slice(0, 64)}"` };
  }
  const value = new Date(raw);
  if (Number.isNaN(value.getTime())) return { ok: false, reason: `capturedAt is not a valid date: "${raw}"` };
  if (value.getTime() - now.getTime() > maxFutureMs) {
    return { ok: false, reason: `capturedAt is more than ${maxFutureMs / 60_000} minutes in the future (camera clock?)` };
  }
  // Older than retention: its images would be deleted at the next retention run (a back-dated alert that loses its evidence).
  if (now.getTime() - value.getTime() > maxAgeMs) {
    return { ok: false, reason: `capturedAt is older than the retention period (${Math.round(maxAgeMs / 86_400_000)} days)` };
  }
  return { ok: true, value };
}
