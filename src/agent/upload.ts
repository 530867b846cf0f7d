/**
 * One frame → POST /api/v1/frames (or its detections → POST /api/v1/detections), and what the agent should do with the
 * answer. classifyResponse() is the pure decision; postFrame() does the I/O.
 */
import { parseRetryAfter } from './backoff.ts';

export type UploadOutcome =
  | { kind: 'accepted'; frameId: string; latencyMs: number }
  /** Server unreachable, 5xx or 429: keep the frame and retry later. */
  | { kind: 'retry'; status: number | null; retryAfterMs: number | null; reason: string }
  /** 4xx other than 401/429: the frame itself is bad; retrying cannot help. */
  | { kind: 'reject'; status: number; reason: string }
  /** 401: the key is wrong, revoked or the camera disabled; the agent must stop. */
  | { kind: 'unauthorized'; reason: string };

export function classifyResponse(status: number, retryAfter: string | null, detail: string, now: number = Date.now()): Exclude<UploadOutcome, { kind: 'accepted' }> | { kind: 'ok' } {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 401) return { kind: 'unauthorized', reason: detail || 'unauthorized' };
  if (status === 429 || status >= 500) {
    return { kind: 'retry', status, retryAfterMs: parseRetryAfter(retryAfter, now), reason: detail || `HTTP ${status}` };
  }
  // 3xx, 403, 404 (wrong server URL), 413, 415, 422…: the same request would fail again.
  return { kind: 'reject', status, reason: detail || `HTTP ${status}` };
}

export interface PostFrameOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:3000 */
  server: string;
  apiKey: string;
  image: Buffer;
  contentType: string;
  capturedAt: Date;
  timeoutMs: number;
  /** Default /api/v1/frames; /api/v1/detections for an edge agent's detections (same answers, same rules). */
  path?: string;
  fetch?: typeof fetch;
}

/** Short text of a problem+json / plain error body, for logs. */
function detailOf(text: string): string {
  try {
    const body = JSON.parse(text) as { detail?: unknown; message?: unknown };
    const d = body.detail ?? body.message;
    if (typeof d === 'string') return d;
  } catch {
    // not JSON
  }
  return text.slice(0, 200);
}

export async function postFrame(opts: PostFrameOptions): Promise<UploadOutcome> {
  const doFetch = opts.fetch ?? fetch;
  const started = performance.now();
  let res: Response;
  try {
    res = await doFetch(new URL(opts.path ?? '/api/v1/frames', opts.server), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${opts.apiKey}`,
        'content-type': opts.contentType,
        'x-captured-at': opts.capturedAt.toISOString(),
      },
      body: opts.image as unknown as BodyInit,
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const reason = e.cause?.code ?? e.cause?.message ?? e.name ?? e.message;
    return { kind: 'retry', status: null, retryAfterMs: null, reason: `server unreachable: ${reason}` };
  }
  let text = '';
  try {
    text = await res.text();
  } catch (err) {
    return { kind: 'retry', status: res.status, retryAfterMs: null, reason: `response cut: ${(err as Error).message}` };
  }
  const latencyMs = performance.now() - started;
  const decision = classifyResponse(res.status, res.headers.get('retry-after'), res.ok ? '' : detailOf(text));
  if (decision.kind !== 'ok') return decision;
  let frameId = '';
  try {
    frameId = String((JSON.parse(text) as { frameId?: unknown }).frameId ?? '');
  } catch {
    // a 2xx without the expected body still means the server took the frame
  }
  return { kind: 'accepted', frameId, latencyMs };
}
