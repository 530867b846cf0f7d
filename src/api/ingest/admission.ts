/**
 * The refusals both ingestion routes (frames, edge detections) share, in the order a client learns them:
 * Redis down → 503; unknown or disabled key → 401 (an unauthenticated caller only ever learns "401");
 * then the request's own problem; then a full camera backlog → 503. Each refusal is counted.
 */
import type { Logger } from 'pino';
import { HttpProblem } from '../problem.ts';
import type { ApiMetrics, RejectReason } from '../metrics.ts';
import type { CameraGate, TrackingHint } from './camera-gate.ts';

export type RequestCheck = { ok: true } | { ok: false; reason: RejectReason; status: number; detail: string };

export function createRefusals(metrics: ApiMetrics, retryAfterSeconds = 5) {
  const retryAfter = String(retryAfterSeconds);
  const reject = (reason: RejectReason, status: number, detail: string, headers?: Record<string, string>): never => {
    metrics.frameRejected(reason);
    throw new HttpProblem(status, detail, reason.replace(/_/g, '-'), headers);
  };
  const unavailable = (reason: RejectReason, detail: string): never => reject(reason, 503, detail, { 'retry-after': retryAfter });
  return { reject, unavailable };
}

export type Refusals = ReturnType<typeof createRefusals>;

/**
 * The camera's key and a backlog slot (for `slotId`, when the request may queue a job): resolves with the
 * camera, whether the slot was taken (`queued`; see camera-gate.ts for `tracking`) and the job's priority
 * (the camera's backlog: its newest frames first, queue/freshness.ts), or throws the refusal.
 */
export async function admitCamera<C extends RequestCheck>(args: {
  gate: CameraGate;
  keyHash: string;
  slotId: string | null;
  maxBacklog: number;
  tracking?: TrackingHint;
  check: C;
  refusals: Refusals;
  logger: Logger;
  what: string;
}): Promise<{ cameraId: string; queued: boolean; priority: number; check: Extract<C, { ok: true }> }> {
  const { gate, keyHash, slotId, refusals } = args;
  let admission;
  try {
    admission = await gate.admit(keyHash, slotId, args.maxBacklog, args.tracking);
  } catch (err) {
    args.logger.warn({ err: (err as Error).message }, `${args.what} refused: redis unavailable`);
    if (slotId) gate.cancel(keyHash, slotId).catch(() => undefined); // the admit may still land late
    return refusals.unavailable('queue_unavailable', 'queue unavailable; retry later');
  }
  if (admission.status === 'unknown') return refusals.reject('unauthorized', 401, 'unknown camera API key');
  if (admission.status === 'disabled') return refusals.reject('camera_disabled', 401, 'camera is disabled');
  const { check } = args;
  if (!check.ok) return refusals.reject(check.reason, check.status, check.detail);
  if (admission.status === 'full') {
    return refusals.unavailable('backlog_full', `camera has ${admission.backlog} frames waiting (limit ${args.maxBacklog}); retry later`);
  }
  const queued = admission.status === 'ok';
  const priority = admission.status === 'ok' ? admission.backlog - 1 : 0;
  return { cameraId: admission.cameraId, queued, priority, check: check as Extract<C, { ok: true }> };
}
