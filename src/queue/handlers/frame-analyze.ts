/**
 * 'frame.analyze': one camera frame → violations, alerts, snapshots, events.
 *
 * Order matters for crash safety (a job may die anywhere and run again):
 *   1. analyse the frame (no side effects);
 *   2. write snapshot JPEGs (idempotent: fixed names, atomic rename);
 *   3. in one transaction holding the camera's database lock, read the camera's
 *      tracks and open incidents, confirm people (k of n) and store sightings,
 *      violations, people and alerts (a frame already recorded is skipped);
 *   4. delete the frame file (the stored evidence frame replaces it);
 *   5. publish events (at-least-once: a retry re-announces alerts this frame created).
 * A missing frame file therefore means an earlier attempt got past step 3 (or the
 * frame had no violation and was deleted): the job just re-announces and completes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { planIncidentFrame } from '../../domain/incidents.ts';
import {
  DEFAULT_CONFIRMATION,
  DEFAULT_CONFIRMATION_THRESHOLD,
  resolveConfirmation,
  sightingAllowed,
  shotQuality,
  toProbabilities,
  violationProbability,
  type ConfirmationSettings,
  type ViolationThreshold,
} from '../../domain/people.ts';
import { CameraGoneError, type FaceRecord, type IncidentRepository } from '../../db/repositories/incidents.ts';
import { faceSharpness } from '../../vision/sharpness.ts';
import type { AlertRecord, AlertRepository } from '../../db/repositories/alerts.ts';
import type { ViolationRepository } from '../../db/repositories/violations.ts';
import { toAlertEvent } from '../../services/alert-view.ts';
import type { Announcer } from '../../services/announcer.ts';
import { ImageInputError, type AnalyzeOptions, type VisionEngine } from '../../vision/types.ts';
import type { FrameBacklog } from '../backlog.ts';
import { staleByMs, type FreshnessPolicy, type StaleFrameCounter } from '../freshness.ts';
import type { FrameJob } from '../jobs.ts';
import type { AnalysisStep } from './analysis-step.ts';
import type { CameraLock } from './camera-lock.ts';
import type { FrameOutcome, WorkerMetrics } from './metrics.ts';
import { removeFile, snapshotPaths, writeFileAtomic } from './snapshot-files.ts';
import type { UpdateThrottle } from './update-throttle.ts';

export interface FrameAnalyzeDeps {
  dataDir: string;
  engine: Pick<VisionEngine, 'analyzeFrame' | 'renderSnapshots' | 'noMaskThreshold'>;
  analyzeOptions?: AnalyzeOptions;
  /** Analysis that reuses the camera's previous frame where it can (analysis-step.ts); default: engine.analyzeFrame on every frame. */
  analyze?: AnalysisStep;
  violations: ViolationRepository;
  alerts: AlertRepository;
  announcer: Announcer;
  updates: UpdateThrottle;
  cameraLock: CameraLock;
  /** Also the incident window: an open alert absorbs people confirmed up to this long after its last sighting. */
  cooldownSeconds: number;
  incidents: IncidentRepository;
  /** Deployment default k of n; a camera's confirmFrames / confirmWindow override it. */
  confirmation?: ConfirmationSettings;
  /** What a track's averaged probabilities must show to be confirmed (default: domain/people.ts DEFAULT_CONFIRMATION_THRESHOLD). */
  violationThreshold?: ViolationThreshold;
  /** Released when the job reaches a final state (see queue/backlog.ts). */
  backlog?: FrameBacklog;
  metrics?: WorkerMetrics;
  /** Skip frames that waited too long (queue/freshness.ts); off when omitted. */
  freshness?: FreshnessPolicy & { counter?: StaleFrameCounter };
  logger: Logger;
}

export interface FrameAnalyzeResult {
  outcome: FrameOutcome;
  faces: number;
  violations: number;
  createdAlertIds: string[];
  updatedAlertIds: string[];
}

// Ids become file names: restrict them so a job can never write outside the data dir.
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

const framePathPattern = (cameraId: string, frameId: string) => new RegExp(`^frames/${cameraId}/${frameId}\\.(jpg|png|webp)$`);

/**
 * P(no mask) of a face from the vision engine. The engine names it
 * `maskProbability` (always P(no mask)) and is adding `noMaskProbability`:
 * this seam accepts either, the new name first.
 */
export function noMaskProbabilityOf(face: { maskProbability?: number; noMaskProbability?: number }): number {
  const p = face.noMaskProbability ?? face.maskProbability;
  if (typeof p !== 'number' || !Number.isFinite(p)) throw new Error('vision result has no P(no mask) for a face');
  return p;
}

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

  const announceCreated = async (alerts: AlertRecord[]) => {
    for (const alert of alerts) {
      await deps.announcer.announce({ kind: 'created', alert: toAlertEvent(alert) });
      await deps.updates.announced(alert.id);
    }
  };

  const finish = async (job: FrameJob, result: FrameAnalyzeResult): Promise<FrameAnalyzeResult> => {
    await deps.backlog?.release(job.cameraId, job.frameId);
    metrics?.framesProcessed.inc({ outcome: result.outcome });
    return result;
  };

  return async function handleFrameAnalyze(job: Job<FrameJob>): Promise<FrameAnalyzeResult> {
    const frame = parseFrameJob(job.data, deps.dataDir);
    const log = logger.child({ jobId: job.id, frameId: frame.frameId, cameraId: frame.cameraId, attempt: job.attemptsMade + 1 });
    const empty = { faces: 0, violations: 0, createdAlertIds: [], updatedAlertIds: [] };

    const staleMs = deps.freshness ? staleByMs(frame, deps.freshness) : null;
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
      const stored = await deps.violations.findByFrame(frame.frameId);
      if (stored.length === 0 && !(await deps.incidents.frameRecorded(frame.frameId))) {
        log.warn({ file: frame.file }, 'frame file missing and nothing stored for it: skipped');
        return finish(frame, { outcome: 'missing', ...empty });
      }
      // A previous attempt stored everything and deleted the frame; its events may not have gone out.
      await announceCreated(await deps.alerts.createdByFrame(frame.cameraId, frame.frameId));
      log.info({ violations: stored.length }, 'frame already processed by an earlier attempt');
      return finish(frame, { outcome: 'already_processed', ...empty, violations: stored.length });
    }

    const started = process.hrtime.bigint();
    let analysis;
    try {
      analysis = deps.analyze ? (await deps.analyze(frame, image)).analysis : await deps.engine.analyzeFrame(image, deps.analyzeOptions);
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

    if (analysis.faces.length === 0) {
      await removeFile(frame.file); // privacy: frames without a violation are not kept
      log.debug({ inferenceMs: inferenceSeconds * 1000 }, 'frame clean');
      return finish(frame, { outcome: 'clean', ...empty });
    }

    // A track is confirmed when its averaged probabilities also pass this (domain/people.ts).
    const threshold = deps.violationThreshold ?? DEFAULT_CONFIRMATION_THRESHOLD;
    const probabilities = analysis.faces.map((f) => toProbabilities(f));
    // The engine's verdict by policy (no_mask, and mask_incorrect unless MASKWATCH_INCORRECT_MASK=ignore)
    // decides each sighting, through the sighting gate (domain/people.ts sightingAllowed); the threshold
    // only applies to a track's averaged probabilities when it is confirmed.
    const noMask = analysis.faces.flatMap((f, faceIndex) => (f.violation ? [faceIndex] : []));

    // Crops and the evidence frame only for frames with a violating face (privacy); written before the
    // DB transaction so a stored path always points at a file.
    const paths = snapshotPaths(frame.cameraId, frame.frameId, noMask);
    const sharpness = new Map<number, number>();
    if (noMask.length > 0) {
      const rendered = await deps.engine.renderSnapshots(image, analysis.faces, noMask);
      if (rendered.faceCrops.length !== noMask.length) {
        throw new Error(`renderSnapshots returned ${rendered.faceCrops.length} crops for ${noMask.length} faces`);
      }
      const measured = await faceSharpness(image, noMask.map((i) => analysis.faces[i]!.box));
      noMask.forEach((faceIndex, i) => sharpness.set(faceIndex, measured[i]!));
      await Promise.all([
        writeFileAtomic(path.join(deps.dataDir, paths.frame), rendered.storedFrame),
        ...noMask.map((faceIndex, i) =>
          writeFileAtomic(path.join(deps.dataDir, paths.faces.get(faceIndex)!), rendered.faceCrops[i]!),
        ),
      ]);
    }

    const records: FaceRecord[] = analysis.faces.map((face, faceIndex) => {
      const p = probabilities[faceIndex]!;
      const crop = paths.faces.get(faceIndex) ?? null;
      return {
        faceIndex,
        box: face.box,
        faceScore: face.score,
        probabilities: p,
        violationAllowed: sightingAllowed(face),
        shotQuality: crop
          ? shotQuality({ box: face.box, faceScore: face.score, sharpness: sharpness.get(faceIndex) ?? null, violationProbability: violationProbability(p) })
          : 0,
        faceSnapshotPath: crop,
      };
    });

    // Read the camera's tracks, people and open incidents, decide and write in one transaction holding
    // the camera's row lock (incidents repository recordFrame); a frame already recorded (retried job)
    // is not planned again. The Redis camera gate around it only keeps workers from queueing on that
    // database lock; correctness does not depend on it or on its expiry.
    const windowMs = deps.cooldownSeconds * 1000;
    const groupAndStore = () =>
      deps.incidents.recordFrame({
        cameraId: frame.cameraId,
        frameId: frame.frameId,
        capturedAt: frame.captured,
        receivedAt: frame.received,
        frameSnapshotPath: noMask.length > 0 ? paths.frame : null,
        faces: records,
        windowMs,
        decide: (state, camera) =>
          planIncidentFrame({
            frameId: frame.frameId,
            at: frame.captured.getTime(),
            faces: records,
            ...state,
            confirmation: resolveConfirmation(camera, deps.confirmation ?? DEFAULT_CONFIRMATION),
            threshold,
            windowMs,
          }),
      });

    const result = await deps.cameraLock.withLock(frame.cameraId, groupAndStore).catch(async (err: unknown) => {
      // The camera was deleted meanwhile (or its foreign key went with it, P2003); retrying cannot help.
      if (!(err instanceof CameraGoneError) && (err as { code?: string }).code !== 'P2003') throw err;
      await Promise.all([...(noMask.length ? [paths.frame] : []), ...paths.faces.values()].map((rel) => removeFile(path.join(deps.dataDir, rel))));
      await removeFile(frame.file);
      await finish(frame, { outcome: 'missing', ...empty });
      throw new UnrecoverableError(`camera ${frame.cameraId} does not exist`);
    });

    await removeFile(frame.file); // the stored evidence frame replaces it
    metrics?.violations.inc(result.violations);
    metrics?.alertsCreated.inc(result.createdAlertIds.length);

    // Alerts this frame created, including ones a crashed earlier attempt created but never announced.
    await announceCreated(await deps.alerts.createdByFrame(frame.cameraId, frame.frameId));
    for (const alertId of result.updatedAlertIds) await deps.updates.changed(alertId);

    log.info(
      {
        faces: analysis.faces.length,
        violating: noMask.length,
        sightings: result.sightings,
        violations: result.violations,
        created: result.createdAlertIds,
        updated: result.updatedAlertIds,
        inferenceMs: Math.round(inferenceSeconds * 1000),
      },
      'frame analysed',
    );
    return finish(frame, {
      outcome: noMask.length > 0 ? 'violations' : 'clean',
      faces: analysis.faces.length,
      violations: result.violations,
      createdAlertIds: result.createdAlertIds,
      updatedAlertIds: result.updatedAlertIds,
    });
  };
}
