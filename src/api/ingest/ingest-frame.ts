import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { sniffImageType, type ImageType } from '../../vision/image.ts';
import { hashSecret } from '../../auth/tokens.ts';
import type { FrameProducer } from '../../queue/producer.ts';
import type { FrameJob } from '../../queue/jobs.ts';
import type { ApiMetrics, RejectReason } from '../metrics.ts';
import { parseCapturedAt } from './captured-at.ts';
import { readImageDimensions } from './image-dimensions.ts';
import { isCompleteImage } from './image-complete.ts';
import type { FrameStore } from './frame-store.ts';
import type { LastFrameRecorder } from './last-frame.ts';
import type { CameraGate } from './camera-gate.ts';
import { admitCamera, createRefusals } from './admission.ts';

export interface IngestDeps {
  /** camera.lastFrameAt, batched (last-frame.ts). */
  lastFrame: LastFrameRecorder;
  gate: CameraGate;
  store: FrameStore;
  producer: FrameProducer;
  metrics: ApiMetrics;
  logger: Logger;
  /** maxCapturedAgeMs: frames captured longer ago than this (the retention period) are refused with 400. */
  limits: { maxFramePixels: number; maxCameraBacklog: number; maxCapturedAgeMs?: number };
  /** Seconds a client is told to wait after a 503. */
  retryAfterSeconds?: number;
  /** The incident window (MASKWATCH_ALERT_COOLDOWN_S): a frame may start a track, which keeps the camera's edge uploads of masked faces queued that long (camera-gate.ts). */
  incidentWindowMs?: number;
  now?: () => Date;
}

export interface IngestRequest {
  apiKey: string | null;
  body: Buffer;
  capturedAt: string | undefined;
}

type Check = { ok: true; type: ImageType; capturedAt: Date } | { ok: false; reason: RejectReason; status: number; detail: string };

/** The request's own checks (no I/O): capture time, type by magic bytes, dimensions from the header. */
export function checkFrame(body: Buffer, capturedAt: string | undefined, receivedAt: Date, maxPixels: number, maxCapturedAgeMs = Infinity): Check {
  const captured = parseCapturedAt(capturedAt, receivedAt, undefined, maxCapturedAgeMs);
  if (!captured.ok) return { ok: false, reason: 'bad_captured_at', status: 400, detail: captured.reason };
  const type = sniffImageType(body);
  if (!type) return { ok: false, reason: 'unsupported_type', status: 415, detail: 'body is not a JPEG, PNG or WebP image (checked by magic bytes)' };
  const dims = readImageDimensions(body, type);
  if (!dims) return { ok: false, reason: 'bad_dimensions', status: 422, detail: `cannot read the ${type} header: truncated or corrupt image` };
  if (dims.width * dims.height > maxPixels) {
    return { ok: false, reason: 'too_large', status: 413, detail: `image is ${dims.width}×${dims.height}; at most ${maxPixels} pixels allowed` };
  }
  // Truncated in transit, or garbage behind a valid header: refuse here, not in a worker.
  if (!isCompleteImage(body, type)) return { ok: false, reason: 'bad_dimensions', status: 422, detail: `the ${type} image is truncated or corrupt (no end marker)` };
  return { ok: true, type, capturedAt: captured.value };
}

/**
 * Ingestion of one frame: checks → camera key + backlog slot (one Redis call)
 * → file → job. Returns only once the job is in Redis; on any failure after
 * the slot was taken, the file and the slot are given back, so a refused frame
 * leaves nothing behind.
 */
export function createFrameIngestor(deps: IngestDeps) {
  const now = deps.now ?? (() => new Date());

  const { reject, unavailable } = createRefusals(deps.metrics, deps.retryAfterSeconds);

  return async function ingest(req: IngestRequest): Promise<{ frameId: string; cameraId: string }> {
    deps.metrics.frameReceived();
    if (!req.apiKey) return reject('unauthorized', 401, 'camera API key required: Authorization: Bearer <key>');
    const receivedAt = now();
    // Checked before the key, reported after it: an unauthenticated caller only ever learns "401".
    const check = checkFrame(req.body, req.capturedAt, receivedAt, deps.limits.maxFramePixels, deps.limits.maxCapturedAgeMs);
    const frameId = randomUUID();
    const keyHash = hashSecret(req.apiKey);
    const { cameraId, priority, check: accepted } = await admitCamera({
      gate: deps.gate,
      keyHash,
      slotId: check.ok ? frameId : null,
      maxBacklog: deps.limits.maxCameraBacklog,
      tracking: check.ok && deps.incidentWindowMs ? { capturedAtMs: check.capturedAt.getTime(), windowMs: deps.incidentWindowMs, mayStartTrack: true } : undefined,
      check,
      refusals: { reject, unavailable },
      logger: deps.logger,
      what: 'frame',
    });

    const release = () => deps.producer.backlog.release(cameraId, frameId).catch(() => undefined); // else pruned when stale
    let rel: string;
    try {
      rel = await deps.store.save(cameraId, frameId, accepted.type === 'jpeg' ? 'jpg' : accepted.type, req.body);
    } catch (err) {
      deps.logger.error({ err, cameraId }, 'frame refused: cannot store file');
      await release();
      return unavailable('storage_error', 'frame storage unavailable; retry later');
    }
    const job: FrameJob = {
      frameId,
      cameraId,
      path: rel,
      capturedAt: accepted.capturedAt.toISOString(),
      receivedAt: receivedAt.toISOString(),
    };
    try {
      // Fair between cameras: a camera's first waiting frame goes in plain FIFO order; its k-th waiting
      // frame gets priority k-1, i.e. behind every other camera's earlier ones. Ten heavy frames from one
      // camera then delay another camera's frame by at most the one being analysed.
      await deps.producer.enqueue(job, { priority });
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, cameraId, frameId }, 'frame refused: enqueue failed');
      await deps.store.remove(rel).catch((e) => deps.logger.error({ err: e, rel }, 'could not delete refused frame'));
      await release();
      return unavailable('queue_unavailable', 'frame queue unavailable; retry later');
    }
    deps.metrics.frameAccepted();
    deps.lastFrame.seen(cameraId, receivedAt);
    return { frameId, cameraId };
  };
}

export type FrameIngestor = ReturnType<typeof createFrameIngestor>;
