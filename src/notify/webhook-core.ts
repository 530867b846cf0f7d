/**
 * Outbound webhooks, pure parts: target configuration, payload, HMAC-SHA256
 * signature, and which failures are worth retrying. No I/O.
 *
 * Receivers verify `X-MaskWatch-Signature: sha256=<hex>` = HMAC-SHA256(secret,
 * `${X-MaskWatch-Timestamp}.${raw body}`) and reject stale timestamps (replay).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AlertEvent } from '../realtime/events.ts';
import type { IncidentNote } from '../contracts/api.ts';

export type WebhookEventName = 'alert.created' | 'alert.updated';
export const WEBHOOK_EVENTS: readonly WebhookEventName[] = ['alert.created', 'alert.updated'];

export interface WebhookTarget {
  /** Short name, shown in the delivery log (never the secret). */
  name: string;
  url: string;
  secret: string;
  events: WebhookEventName[];
  /** Only alerts of cameras in these zones (a precinct's own system); absent: every alert. */
  zones?: string[];
}

export class WebhookConfigError extends Error {
  constructor(message: string) {
    super(`MASKWATCH_WEBHOOKS: ${message}`);
    this.name = 'WebhookConfigError';
  }
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Parses MASKWATCH_WEBHOOKS: a JSON array of {name, url, secret, events?, zones?}.
 * HTTPS only (plain HTTP is accepted for localhost, for tests and local relays).
 */
export function parseWebhookTargets(raw: string | undefined): WebhookTarget[] {
  if (!raw || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new WebhookConfigError('must be a JSON array of {"name","url","secret","events"?}');
  }
  if (!Array.isArray(parsed)) throw new WebhookConfigError('must be a JSON array');
  const names = new Set<string>();
  return parsed.map((t: unknown, i) => {
    const o = (t ?? {}) as Record<string, unknown>;
    const where = `entry ${i}`;
    if (typeof o.name !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(o.name)) throw new WebhookConfigError(`${where}: name must be 1–64 letters, digits, "_", "." or "-"`);
    if (names.has(o.name)) throw new WebhookConfigError(`${where}: duplicate name "${o.name}"`);
    names.add(o.name);
    let url: URL;
    try {
      url = new URL(String(o.url));
    } catch {
      throw new WebhookConfigError(`${where} (${o.name}): url is not a valid URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOCAL_HOSTS.has(url.hostname))) {
      throw new WebhookConfigError(`${where} (${o.name}): url must be https:// (http:// only for localhost)`);
    }
    if (url.username || url.password) throw new WebhookConfigError(`${where} (${o.name}): put credentials in the secret, not the URL`);
    if (typeof o.secret !== 'string' || o.secret.length < 16) throw new WebhookConfigError(`${where} (${o.name}): secret must be at least 16 characters`);
    const events = o.events === undefined ? [...WEBHOOK_EVENTS] : o.events;
    if (!Array.isArray(events) || events.length === 0 || !events.every((e) => (WEBHOOK_EVENTS as readonly unknown[]).includes(e))) {
      throw new WebhookConfigError(`${where} (${o.name}): events must be a non-empty list of ${WEBHOOK_EVENTS.join(', ')}`);
    }
    const zones = o.zones;
    if (zones !== undefined && (!Array.isArray(zones) || zones.length === 0 || !zones.every((z) => typeof z === 'string' && z.trim() !== '' && z.length <= 100))) {
      throw new WebhookConfigError(`${where} (${o.name}): zones must be a non-empty list of zone names (leave it out for every zone)`);
    }
    return { name: o.name, url: url.toString(), secret: o.secret, events: events as WebhookEventName[], ...(zones ? { zones: zones.map((z: string) => z.trim()) } : {}) };
  });
}

/**
 * Whether a target receives an alert event: it subscribed to the event, and it takes every zone or the alert's
 * camera is in one of its zones — or was until this change (`previousZone`: a camera moved away, so its old
 * precinct's system hears that the alert left).
 */
export function targetWants(target: WebhookTarget, event: WebhookEventName, alert: Pick<AlertEvent, 'camera'>, previousZone: string | null = null): boolean {
  if (!target.events.includes(event)) return false;
  if (!target.zones) return true;
  return [alert.camera.zone, previousZone].some((z) => z !== null && target.zones!.includes(z));
}

export interface WebhookPayload {
  /** Unique per event: receivers de-duplicate retried deliveries by it. */
  id: string;
  event: WebhookEventName;
  occurredAt: string;
  alert: AlertEvent;
  /** On the alert.updated a note raised: the note (the alert carries only its count). */
  note?: IncidentNote;
}

export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Receiver-side check (also used by tests): signature matches and the timestamp is recent. */
export function verifySignature(secret: string, header: string | undefined, timestamp: string | undefined, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  if (!header || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureHeader(secret, Number(timestamp), body));
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

/** Worth retrying: network errors, timeouts, 408, 429 and 5xx. Other 4xx mean the request itself is refused. */
export function isRetryable(status: number | null): boolean {
  return status === null || status === 408 || status === 429 || status >= 500;
}
