/**
 * 'detections.record': an edge agent's analysis of one frame → the same
 * tracking, confirmation, incidents, alerts and events as a frame analysed
 * here (record-analysis.ts). The frame never left the site: the evidence is the
 * uploaded crops of the violating faces, and no annotated frame.
 *
 * Crash safety as for frames: the uploaded crops are the job's input files,
 * deleted only after the transaction; a retry finding them gone (with a
 * violating face) re-announces what the earlier attempt stored.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { DEFAULT_CONFIRMATION_THRESHOLD, type ViolationThreshold } from '../../domain/people.ts';
import { laplacianVariance } from '../../vision/sharpness.ts';
import { decodeImage } from '../../vision/image.ts';
import { createHandlingTimeEstimate, staleByMs, type FreshnessPolicy, type StaleFrameCounter } from '../freshness.ts';
import type { DetectionsJob } from '../jobs.ts';
import { createAnalysisRecorder, type FrameAnalyzeResult, type RecordAnalysisDeps } from './record-analysis.ts';
import { removeFile } from './snapshot-files.ts';

export interface DetectionsRecordDeps extends RecordAnalysisDeps {
  /** What a track's averaged probabilities must show to be confirmed: the same as central analysis (default: DEFAULT_CONFIRMATION_THRESHOLD). */
  violationThreshold?: ViolationThreshold;
  freshness?: FreshnessPolicy & { counter?: StaleFrameCounter };
  logger: Logger;
}

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Where the API keeps an uploaded crop until its job is recorded (relative to the data dir). */
export function uploadedCropPath(cameraId: string, frameId: string, faceIndex: number): string {
  return `frames/${cameraId}/${frameId}-${faceIndex}.jpg`;
}

export function parseDetectionsJob(data: unknown): DetectionsJob & { captured: Date; received: Date } {
  const d = data as Partial<DetectionsJob> | null;
  if (!d || typeof d !== 'object') throw new UnrecoverableError('detections job payload is not an object');
  for (const key of ['frameId', 'cameraId'] as const) {
    if (typeof d[key] !== 'string' || !SAFE_ID.test(d[key])) {
      throw new UnrecoverableError(`detections job ${key} must match ${SAFE_ID}, got ${JSON.stringify(d[key])}`);
    }
  }
  if (!Array.isArray(d.faces)) throw new UnrecoverableError('detections job has no faces array');
  const captured = new Date(d.capturedAt ?? '');
  const received = new Date(d.receivedAt ?? '');
  if (Number.isNaN(captured.getTime())) throw new UnrecoverableError(`capturedAt is not a date: ${d.capturedAt}`);
  if (Number.isNaN(received.getTime())) throw new UnrecoverableError(`receivedAt is not a date: ${d.receivedAt}`);
  return { ...(d as DetectionsJob), captured, received };
}

/** Sharpness of the face inside its crop (the crop is the face box plus a margin: the centre holds the face). */
async function cropSharpness(crop: Buffer): Promise<number> {
  const image = await decodeImage(crop, { maxPixels: 4096 * 4096 });
  return laplacianVariance(image, [image.width * 0.2, image.height * 0.2, image.width * 0.6, image.height * 0.6]);
}

export function createDetectionsRecordHandler(deps: DetectionsRecordDeps) {
  const { metrics, logger } = deps;
  const recorder = createAnalysisRecorder(deps);
  const handling = createHandlingTimeEstimate();

  return async function handleDetectionsRecord(job: Job<DetectionsJob>): Promise<FrameAnalyzeResult> {
    const frame = parseDetectionsJob(job.data);
    const log = logger.child({ jobId: job.id, frameId: frame.frameId, cameraId: frame.cameraId, attempt: job.attemptsMade + 1, edge: true });
    const violating = frame.faces.flatMap((f, i) => (f.violation ? [i] : []));
    const cropFiles = violating.map((i) => path.join(deps.dataDir, uploadedCropPath(frame.cameraId, frame.frameId, i)));
    const removeInputs = async () => {
      await Promise.all(cropFiles.map((f) => removeFile(f)));
    };

    const staleMs = deps.freshness ? staleByMs(frame, deps.freshness, handling.expectedMs()) : null;
    if (staleMs !== null) {
      await removeInputs();
      await deps.freshness?.counter?.record(frame.cameraId);
      metrics?.framesStale.inc();
      log.debug({ ageMs: staleMs }, 'stale detections skipped');
      return recorder.finish(frame, recorder.empty('stale'));
    }

    const handled = deps.freshness?.now(); // the freshness clock (injected in tests)
    let crops: Buffer[];
    try {
      crops = await Promise.all(cropFiles.map((f) => readFile(f)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // Deleted after an earlier attempt's transaction: re-announce what it stored.
      return recorder.replay(frame, log, { crops: cropFiles.length });
    }

    const result = await recorder.record({
      frame,
      faces: frame.faces,
      async evidence(indexes) {
        // The API stored exactly one crop per violating face, in face order.
        const byFace = new Map(violating.map((faceIndex, i) => [faceIndex, crops[i]!]));
        const faceCrops = indexes.map((i) => {
          const crop = byFace.get(i);
          if (!crop) throw new UnrecoverableError(`no uploaded crop for violating face ${i}`);
          return crop;
        });
        return { faceCrops, sharpness: await Promise.all(faceCrops.map(cropSharpness)), storedFrame: null };
      },
      removeInputs,
      threshold: deps.violationThreshold ?? DEFAULT_CONFIRMATION_THRESHOLD,
      log,
    });
    if (deps.freshness && handled !== undefined) handling.observe(deps.freshness.now() - handled);
    return result;
  };
}
