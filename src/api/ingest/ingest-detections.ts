/**
 * Ingestion of an edge agent's detections (POST /api/v1/detections): the agent
 * ran the vision engine beside the camera and sends faces, probabilities and
 * the crops of violating faces — never the frame.
 *
 * Nothing the client says is taken on trust beyond what it measured: boxes must
 * lie in the frame, probabilities must be probabilities, and which faces are
 * violations is decided HERE with the deployed head's rule (decideFace) and, when
 * the agent sends its second opinion's reading, the deployed second-opinion rule. A crop
 * is required for exactly those faces and must be a decodable JPEG of bounded
 * size and pixels. Then the same admission (camera key + backlog slot, one Redis
 * call), storage and queue as frames; 202 once the job is durably queued.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { hashSecret } from '../../auth/tokens.ts';
import { MAX_CROP_BYTES, MAX_DETECTED_FACES, type DetectionsRequest } from '../../contracts/api.ts';
import type { DetectionsJob, DetectedFace } from '../../queue/jobs.ts';
import type { FrameProducer } from '../../queue/producer.ts';
import { uploadedCropPath } from '../../queue/handlers/detections-record.ts';
import { AIZOO_SECOND_OPINION_RULE, decideFace, needsSecondOpinion, secondOpinionConfirms, type IncorrectMaskPolicy } from '../../vision/decision.ts';
import type { DecisionRule } from '../../vision/head.ts';
import { decodeImage, sniffImageType } from '../../vision/image.ts';
import type { Box } from '../../vision/types.ts';
import type { ApiMetrics, RejectReason } from '../metrics.ts';
import { parseCapturedAt } from './captured-at.ts';
import type { CameraGate } from './camera-gate.ts';
import { admitCamera, createRefusals } from './admission.ts';
import type { FrameStore } from './frame-store.ts';
import type { LastFrameRecorder } from './last-frame.ts';

/** The deployed violation rule: the head's validated thresholds and gates with this deployment's overrides. */
export interface ServerDecision {
  rule: DecisionRule;
  policy: IncorrectMaskPolicy;
}

export interface DetectionsIngestDeps {
  gate: CameraGate;
  /** camera.lastFrameAt, batched (last-frame.ts). */
  lastFrame: LastFrameRecorder;
  store: FrameStore;
  producer: FrameProducer;
  metrics: ApiMetrics;
  logger: Logger;
  /** Loaded once (the head file), then reused. */
  decision: () => Promise<ServerDecision>;
  limits: { maxFramePixels: number; maxCameraBacklog: number; maxCapturedAgeMs?: number };
  /**
   * The incident window (MASKWATCH_ALERT_COOLDOWN_S): masked faces only are queued only within it after the camera's
   * last upload that could start or extend a track (camera-gate.ts). Unset: always queued.
   */
  incidentWindowMs?: number;
  retryAfterSeconds?: number;
  now?: () => Date;
}

export interface DetectionsIngestRequest {
  apiKey: string | null;
  body: DetectionsRequest;
}

type Refusal = { ok: false; reason: RejectReason; status: number; detail: string };
type Checked = { ok: true; capturedAt: Date; faces: DetectedFace[]; crops: Map<number, Buffer> } | Refusal;

/** Pixels of box rounding a detector may leave past the frame edge (boxes are rounded to 0.1 px). */
const EDGE_SLACK_PX = 0.5;
const PROBABILITY_SUM_TOLERANCE = 0.01;
const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const refuse = (reason: RejectReason, status: number, detail: string): Refusal => ({ ok: false, reason, status, detail });

/**
 * The request's own checks (no I/O, crops not yet decoded): capture time, frame size, boxes,
 * probabilities, the server's verdict per face and "a crop for exactly the violating faces".
 */
export function checkDetections(body: DetectionsRequest, receivedAt: Date, decision: ServerDecision, limits: DetectionsIngestDeps['limits']): Checked {
  const captured = parseCapturedAt(body.capturedAt, receivedAt, undefined, limits.maxCapturedAgeMs ?? Infinity);
  if (!body.capturedAt) return refuse('bad_captured_at', 400, 'capturedAt is required');
  if (!captured.ok) return refuse('bad_captured_at', 400, captured.reason);
  const { width, height } = body;
  if (width * height > limits.maxFramePixels) {
    return refuse('too_large', 413, `frame is ${width}×${height}; at most ${limits.maxFramePixels} pixels allowed`);
  }
  if (body.faces.length > MAX_DETECTED_FACES) return refuse('bad_detections', 422, `${body.faces.length} faces; at most ${MAX_DETECTED_FACES} per frame`);
  const faces: DetectedFace[] = [];
  const crops = new Map<number, Buffer>();
  for (const [i, face] of body.faces.entries()) {
    const [x, y, w, h] = face.box as Box;
    if (![x, y, w, h].every(Number.isFinite) || w <= 0 || h <= 0) {
      return refuse('bad_detections', 422, `faces[${i}].box must have a positive width and height`);
    }
    if (x < -EDGE_SLACK_PX || y < -EDGE_SLACK_PX || x + w > width + EDGE_SLACK_PX || y + h > height + EDGE_SLACK_PX) {
      return refuse('bad_detections', 422, `faces[${i}].box [${x}, ${y}, ${w}, ${h}] lies outside the ${width}×${height} frame`);
    }
    const p = face.probabilities;
    const values = [p.mask, p.no_mask, p.mask_incorrect];
    if (!values.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)) return refuse('bad_detections', 422, `faces[${i}].probabilities must lie in [0, 1]`);
    const sum = values.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > PROBABILITY_SUM_TOLERANCE) return refuse('bad_detections', 422, `faces[${i}].probabilities sum to ${sum.toFixed(4)}, not 1`);
    // The server's verdict, from the client's measurements: a client cannot hide or invent a violation by label.
    let { label, violation } = decideFace({ box: [x, y, w, h], score: face.score }, p, decision.rule, decision.policy);
    if (face.secondOpinion !== undefined) {
      if (!needsSecondOpinion({ label, violation })) {
        return refuse('bad_detections', 422, `faces[${i}].secondOpinion is only for faces the server's rule accuses of no mask`);
      }
      // The agent's measurement, the server's rule (the one a central worker applies).
      if (!secondOpinionConfirms({ noMask: face.secondOpinion.noMaskProbability }, AIZOO_SECOND_OPINION_RULE)) {
        violation = false;
        label = 'mask'; // as the engine relabels a vetoed face: it starts no track
      }
    }
    if (violation && face.crop === undefined) return refuse('bad_crop', 422, `faces[${i}] is a violation: its crop is required`);
    if (!violation && face.crop !== undefined) return refuse('bad_crop', 422, `faces[${i}] is not a violation: no crop may be sent for it (privacy)`);
    if (face.crop !== undefined) {
      if (!STRICT_BASE64.test(face.crop) || face.crop.length % 4 !== 0) return refuse('bad_crop', 422, `faces[${i}].crop is not base64`);
      const bytes = Buffer.from(face.crop, 'base64');
      if (bytes.length > MAX_CROP_BYTES) return refuse('too_large', 413, `faces[${i}].crop is ${bytes.length} bytes; at most ${MAX_CROP_BYTES} allowed`);
      if (sniffImageType(bytes) !== 'jpeg') return refuse('bad_crop', 422, `faces[${i}].crop is not a JPEG`);
      crops.set(i, bytes);
    }
    faces.push({ box: [x, y, w, h], score: face.score, probabilities: { mask: p.mask, no_mask: p.no_mask, mask_incorrect: p.mask_incorrect }, label, violation });
  }
  return { ok: true, capturedAt: captured.value, faces, crops };
}

/**
 * The server's frame id: random, or derived from the agent's id and its camera key (a retried upload
 * dedupes; two cameras choosing the same id cannot collide).
 */
export function serverFrameId(keyHash: string, clientFrameId: string | undefined): string {
  if (!clientFrameId) return randomUUID();
  const h = createHash('sha256').update(`detections:${keyHash}:${clientFrameId.toLowerCase()}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // UUID version 5-style (name-based, SHA)
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function createDetectionsIngestor(deps: DetectionsIngestDeps) {
  const now = deps.now ?? (() => new Date());
  const { reject, unavailable } = createRefusals(deps.metrics, deps.retryAfterSeconds);

  return async function ingestDetections(req: DetectionsIngestRequest): Promise<{ frameId: string; cameraId: string; violations: number }> {
    deps.metrics.frameReceived();
    if (!req.apiKey) return reject('unauthorized', 401, 'camera API key required: Authorization: Bearer <key>');
    const receivedAt = now();
    const check = checkDetections(req.body, receivedAt, await deps.decision(), deps.limits);
    const keyHash = hashSecret(req.apiKey);
    const frameId = serverFrameId(keyHash, req.body.frameId);
    // A frame with nobody in view changes nothing central (tracks end by time, not by empty frames; the
    // worker would only count it): it is accepted without a queue slot or a job. Nor does one of masked
    // faces only while no track of the camera can be live (the gate knows: camera-gate.ts).
    const mayNeedJob = check.ok && check.faces.length > 0;
    const { cameraId, queued, priority, check: accepted } = await admitCamera({
      gate: deps.gate,
      keyHash,
      slotId: mayNeedJob ? frameId : null,
      maxBacklog: deps.limits.maxCameraBacklog,
      tracking:
        check.ok && deps.incidentWindowMs
          ? { capturedAtMs: check.capturedAt.getTime(), windowMs: deps.incidentWindowMs, mayStartTrack: check.faces.some((f) => f.violation) }
          : undefined,
      check,
      refusals: { reject, unavailable },
      logger: deps.logger,
      what: 'detections',
    });
    if (!queued) {
      deps.metrics.frameAccepted();
      deps.lastFrame.seen(cameraId, receivedAt);
      return { frameId, cameraId, violations: 0 };
    }
    const release = () => deps.producer.backlog.release(cameraId, frameId).catch(() => undefined);
    // A retry of an upload whose job already ran: adding the job again would be a no-op, so nothing
    // would release the slot just taken or delete crops stored again. Answer as the first time.
    if (req.body.frameId && (await deps.producer.detectionsFinished(frameId).catch(() => false))) {
      await release();
      deps.metrics.frameAccepted();
      return { frameId, cameraId, violations: accepted.crops.size };
    }
    // Decoded only for an admitted camera: a crop that is not a whole JPEG is refused, bounded in
    // pixels by the frame it came from.
    for (const [i, crop] of accepted.crops) {
      try {
        await decodeImage(crop, { maxPixels: Math.min(req.body.width * req.body.height, deps.limits.maxFramePixels) });
      } catch (err) {
        await release();
        return reject('bad_crop', 422, `faces[${i}].crop is not a decodable JPEG: ${(err as Error).message}`);
      }
    }
    const stored: string[] = [];
    const removeStored = () => Promise.all(stored.map((rel) => deps.store.remove(rel).catch(() => undefined)));
    try {
      for (const [i, crop] of accepted.crops) {
        const rel = await deps.store.save(cameraId, `${frameId}-${i}`, 'jpg', crop);
        if (rel !== uploadedCropPath(cameraId, frameId, i)) throw new Error(`crop stored at ${rel}, not where the worker reads it`);
        stored.push(rel);
      }
    } catch (err) {
      deps.logger.error({ err, cameraId }, 'detections refused: cannot store crops');
      await removeStored();
      await release();
      return unavailable('storage_error', 'crop storage unavailable; retry later');
    }
    const job: DetectionsJob = {
      frameId,
      cameraId,
      capturedAt: accepted.capturedAt.toISOString(),
      receivedAt: receivedAt.toISOString(),
      width: req.body.width,
      height: req.body.height,
      faces: accepted.faces,
    };
    try {
      // Fair between cameras exactly like frames (ingest-frame.ts).
      await deps.producer.enqueueDetections(job, { priority });
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, cameraId, frameId }, 'detections refused: enqueue failed');
      await removeStored();
      await release();
      return unavailable('queue_unavailable', 'queue unavailable; retry later');
    }
    deps.metrics.frameAccepted();
    deps.lastFrame.seen(cameraId, receivedAt);
    return { frameId, cameraId, violations: accepted.crops.size };
  };
}

export type DetectionsIngestor = ReturnType<typeof createDetectionsIngestor>;
