/**
 * 'frame.analyze': one camera frame → violations, alerts, snapshots, events.
 *
 * The analysis (no side effects) happens here; everything after it — snapshots,
 * the camera's transaction, deleting the frame, announcing — is record-analysis.ts,
 * shared with edge agents' detections, where its crash-safety order is written down.
 * A missing frame file therefore means an earlier attempt got past the transaction
 * (or the frame had no violation and was deleted): the job re-announces and completes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { decodeImage, type DecodedImage } from '../../vision/image.ts';
import { faceSharpness } from '../../vision/sharpness.ts';
import { ImageInputError, type AnalyzeOptions, type VisionEngine } from '../../vision/types.ts';
import { createHandlingTimeEstimate, staleByMs, type FreshnessPolicy, type StaleFrameCounter } from '../freshness.ts';
import type { FrameJob } from '../jobs.ts';
import { DEFAULT_CONFIRMATION_THRESHOLD, type ViolationThreshold } from '../../domain/people.ts';
import type { AnalysisStep } from './analysis-step.ts';
import { createAnalysisRecorder, type FrameAnalyzeResult, type RecordAnalysisDeps } from './record-analysis.ts';
import { removeFile } from './snapshot-files.ts';

export type { FrameAnalyzeResult } from './record-analysis.ts';

export interface FrameAnalyzeDeps extends RecordAnalysisDeps {
  engine: Pick<VisionEngine, 'analyzeFrame' | 'renderSnapshots' | 'noMaskThreshold'>;
  analyzeOptions?: AnalyzeOptions;
  /** Analysis that reuses the camera's previous frame where it can (analysis-step.ts); default: engine.analyzeFrame on every frame. */
  analyze?: AnalysisStep;
  /** What a track's averaged probabilities must show to be confirmed (default: domain/people.ts DEFAULT_CONFIRMATION_THRESHOLD). */
  violationThreshold?: ViolationThreshold;
  /** Pixel limit of the frame decode (config.ingest.maxFramePixels; default vision/image.ts DEFAULT_MAX_PIXELS). */
  maxPixels?: number;
  /** Skip frames that waited too long (queue/freshness.ts); off when omitted. */
  freshness?: FreshnessPolicy & { counter?: StaleFrameCounter };
  logger: Logger;
}

// Ids become file names: restrict them so a job can never write outside the data dir.
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

const framePathPattern = (cameraId: string, frameId: string) => new RegExp(`^frames/${cameraId}/${frameId}\\.(jpg|png|webp)$`);

export function parseFrameJob(data: unknown, dataDir: string): FrameJob & { file: string; captured: Date; received: Date } {
  const d = data as Partial<FrameJob> | null;
  if (!d || typeof d !== 'object') throw new UnrecoverableError('frame job payload is not an object');
  for (const key of ['frameId', 'cameraId'] as const) {
    if (typeof d[key] !== 'string' || !SAFE_ID.test(d[key])) {
      throw new UnrecoverableError(`frame job ${key} must match ${SAFE_ID}, got ${JSON.stringify(d[key])}`);
    }
  }
  if (typeof d.path !== 'string' || d.path === '') throw new UnrecoverableError('frame job path is missing');
  // Exactly where ingestion stores this frame (frame-store.ts): a forged job cannot name any other file to read or delete.
  if (!framePathPattern(d.cameraId!, d.frameId!).test(d.path)) {
    throw new UnrecoverableError(`frame path is not frames/<cameraId>/<frameId>.<jpg|png|webp>: ${JSON.stringify(d.path.slice(0, 200))}`);
  }
  const file = path.resolve(dataDir, d.path);
  const captured = new Date(d.capturedAt ?? '');
  const received = new Date(d.receivedAt ?? '');
  if (Number.isNaN(captured.getTime())) throw new UnrecoverableError(`capturedAt is not a date: ${d.capturedAt}`);
  if (Number.isNaN(received.getTime())) throw new UnrecoverableError(`receivedAt is not a date: ${d.receivedAt}`);
  return { ...(d as FrameJob), file, captured, received };
}

export function createFrameAnalyzeHandler(deps: FrameAnalyzeDeps) {
  const { metrics, logger } = deps;
  const recorder = createAnalysisRecorder(deps);
  const { finish } = recorder;
  const handling = createHandlingTimeEstimate();

  return async function handleFrameAnalyze(job: Job<FrameJob>): Promise<FrameAnalyzeResult> {
    const frame = parseFrameJob(job.data, deps.dataDir);
    const log = logger.child({ jobId: job.id, frameId: frame.frameId, cameraId: frame.cameraId, attempt: job.attemptsMade + 1 });
    const empty = { faces: 0, violations: 0, createdAlertIds: [], updatedAlertIds: [] };

    const staleMs = deps.freshness ? staleByMs(frame, deps.freshness, handling.expectedMs()) : null;
    if (staleMs !== null) {
      // Too old to be useful: complete without analysis (no alert from it), and count it.
      await removeFile(frame.file);
      await deps.freshness?.counter?.record(frame.cameraId);
      metrics?.framesStale.inc();
      log.debug({ ageMs: staleMs }, 'stale frame skipped');
      return finish(frame, { outcome: 'stale', ...empty });
    }

    let image: Buffer;
    try {
      image = await readFile(frame.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A previous attempt stored everything and deleted the frame; its events may not have gone out.
      return recorder.replay(frame, log, { file: frame.file });
    }

    // Decoded at most once, when first needed: for analysis (unless the step reuses the previous frame's
    // faces outright) and again for the evidence (crops, stored frame, sharpness) of a violating frame.
    let decoded: Promise<DecodedImage> | undefined;
    const pixels = () => (decoded ??= decodeImage(image, { maxPixels: deps.maxPixels }));
    const started = process.hrtime.bigint();
    const handled = deps.freshness?.now(); // the freshness clock (injected in tests)
    let analysis;
    try {
      analysis = deps.analyze ? (await deps.analyze(frame, image, pixels)).analysis : await deps.engine.analyzeFrame(await pixels(), deps.analyzeOptions);
    } catch (err) {
      if (err instanceof ImageInputError) {
        // Retrying a corrupt image cannot help; drop the file so nothing unreadable lingers.
        await removeFile(frame.file);
        await finish(frame, { outcome: 'corrupt', ...empty });
        log.warn({ code: err.code, err: err.message }, 'unusable frame: failed without retry');
        throw new UnrecoverableError(`unusable image (${err.code}): ${err.message}`);
      }
      throw err;
    }
    const inferenceSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics?.inferenceSeconds.observe(inferenceSeconds);

    // From here on, the same path as an edge agent's detections (record-analysis.ts).
    const result = await recorder.record({
      frame,
      faces: analysis.faces,
      async evidence(violating) {
        const frameImage = await pixels();
        const rendered = await deps.engine.renderSnapshots(frameImage, analysis.faces, violating);
        const sharpness = await faceSharpness(frameImage, violating.map((i) => analysis.faces[i]!.box));
        return { faceCrops: rendered.faceCrops, sharpness, storedFrame: rendered.storedFrame };
      },
      removeInputs: () => removeFile(frame.file).then(() => undefined),
      threshold: deps.violationThreshold ?? DEFAULT_CONFIRMATION_THRESHOLD,
      log,
      logFields: { inferenceMs: Math.round(inferenceSeconds * 1000) },
    });
    if (deps.freshness && handled !== undefined) handling.observe(deps.freshness.now() - handled);
    return result;
  };
}
