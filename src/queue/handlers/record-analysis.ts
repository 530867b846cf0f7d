/**
 * What happens to a frame once its faces are known, whoever analysed it: the
 * worker ('frame.analyze', from the uploaded frame) or the camera's edge agent
 * ('detections.record', from POST /api/v1/detections). One path, so central and
 * edge analysis track, confirm, group, alert and announce identically.
 *
 * Order matters for crash safety (a job may die anywhere and run again):
 *   1. write the evidence JPEGs (idempotent: fixed names, atomic rename);
 *   2. in one transaction holding the camera's database lock, read the camera's
 *      tracks and open incidents, confirm people (k of n) and store sightings,
 *      violations, people and alerts (a frame already recorded is skipped);
 *   3. delete the job's input files (frame / uploaded crops);
 *   4. publish events (at-least-once: a retry re-announces alerts this frame created).
 * Input files missing on a later attempt therefore mean an earlier attempt got
 * past step 2 (or found nothing to keep): `replay` re-announces and completes.
 */
import path from 'node:path';
import { UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';
import { planIncidentFrame, planSightings } from '../../domain/incidents.ts';
import {
  DEFAULT_CONFIRMATION,
  resolveConfirmation,
  shotQuality,
  sightingAllowed,
  toProbabilities,
  violationProbability,
  type ConfirmationSettings,
  type ViolationThreshold,
} from '../../domain/people.ts';
import { CameraGoneError, type FaceRecord, type IncidentRepository } from '../../db/repositories/incidents.ts';
import type { AlertRecord, AlertRepository } from '../../db/repositories/alerts.ts';
import type { ViolationRepository } from '../../db/repositories/violations.ts';
import { toAlertEvent } from '../../services/alert-view.ts';
import type { Announcer } from '../../services/announcer.ts';
import type { Box, MaskLabel } from '../../vision/types.ts';
import type { FrameBacklog } from '../backlog.ts';
import type { CameraLock } from './camera-lock.ts';
import type { FrameOutcome, WorkerMetrics } from './metrics.ts';
import { removeFile, snapshotPaths, writeFileAtomic } from './snapshot-files.ts';
import type { UpdateThrottle } from './update-throttle.ts';

export interface RecordAnalysisDeps {
  dataDir: string;
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
  /** Released when the job reaches a final state (see queue/backlog.ts). */
  backlog?: FrameBacklog;
  metrics?: WorkerMetrics;
}

export interface FrameAnalyzeResult {
  outcome: FrameOutcome;
  faces: number;
  violations: number;
  createdAlertIds: string[];
  updatedAlertIds: string[];
}

/** A frame's identity and times, as both job kinds carry them. */
export interface RecordedFrame {
  cameraId: string;
  frameId: string;
  captured: Date;
  received: Date;
}

/** One face as the decision left it: the server's label and verdict (`violation`), never a client's. */
export interface AnalysedFace {
  box: Box;
  score: number;
  probabilities: Record<MaskLabel, number>;
  label: MaskLabel;
  violation: boolean;
}

/** The images kept for a frame's violating faces (privacy: nothing for a frame without one). */
export interface FrameEvidence {
  /** One JPEG per violating face, in face-index order. */
  faceCrops: Buffer[];
  /** Sharpness of each crop's face (best-shot choice), same order. */
  sharpness: number[];
  /** The frame as stored (bystanders blurred, no overlay; rendered per alert on request); null for edge analysis, where frames never leave the site. */
  storedFrame: Buffer | null;
}

export interface RecordAnalysisInput {
  frame: RecordedFrame;
  faces: readonly AnalysedFace[];
  /** Produces the evidence of the violating faces (called only when there is one). */
  evidence(violating: number[]): Promise<FrameEvidence>;
  /** Deletes the job's input files (the frame, or uploaded crops): after the transaction, and when the camera is gone. */
  removeInputs(): Promise<void>;
  /** What a track's averaged probabilities must show to be confirmed (domain/people.ts). */
  threshold: ViolationThreshold;
  log: Logger;
  /** Extra fields for the 'frame analysed' log line (e.g. inference time). */
  logFields?: Record<string, unknown>;
}

const EMPTY = { faces: 0, violations: 0, createdAlertIds: [], updatedAlertIds: [] };

export function createAnalysisRecorder(deps: RecordAnalysisDeps) {
  const { metrics } = deps;

  const announceCreated = async (alerts: AlertRecord[]) => {
    for (const alert of alerts) {
      await deps.announcer.announce({ kind: 'created', alert: toAlertEvent(alert) });
      await deps.updates.announced(alert.id);
    }
  };

  /** The job's final bookkeeping: backlog slot back, outcome counted. */
  const finish = async (frame: Pick<RecordedFrame, 'cameraId' | 'frameId'>, result: FrameAnalyzeResult): Promise<FrameAnalyzeResult> => {
    await deps.backlog?.release(frame.cameraId, frame.frameId);
    metrics?.framesProcessed.inc({ outcome: result.outcome });
    return result;
  };

  return {
    finish,
    empty: (outcome: FrameOutcome): FrameAnalyzeResult => ({ outcome, ...EMPTY }),

    /**
     * The job's input files are gone: either an earlier attempt stored the frame (re-announce what it
     * created, which it may not have got out) or there was never anything to keep.
     */
    async replay(frame: Pick<RecordedFrame, 'cameraId' | 'frameId'>, log: Logger, detail: Record<string, unknown> = {}): Promise<FrameAnalyzeResult> {
      const stored = await deps.violations.findByFrame(frame.frameId);
      if (stored.length === 0 && !(await deps.incidents.frameRecorded(frame.frameId))) {
        log.warn(detail, 'job input missing and nothing stored for it: skipped');
        return finish(frame, { outcome: 'missing', ...EMPTY });
      }
      await announceCreated(await deps.alerts.createdByFrame(frame.cameraId, frame.frameId));
      log.info({ violations: stored.length }, 'frame already processed by an earlier attempt');
      return finish(frame, { outcome: 'already_processed', ...EMPTY, violations: stored.length });
    },

    /** Steps 1–4 above for one analysed frame; resolves with the job's result (finish included). */
    async record(input: RecordAnalysisInput): Promise<FrameAnalyzeResult> {
      const { frame, faces, log } = input;
      if (faces.length === 0) {
        await input.removeInputs(); // privacy: frames without a violation are not kept
        log.debug(input.logFields ?? {}, 'frame clean');
        return finish(frame, { outcome: 'clean', ...EMPTY });
      }
      const probabilities = faces.map((f) => toProbabilities(f));
      // The verdict by policy (no_mask, and mask_incorrect unless MASKWATCH_INCORRECT_MASK=ignore) decides each
      // sighting, through the sighting gate (domain/people.ts sightingAllowed); the threshold only applies to a
      // track's averaged probabilities when it is confirmed.
      const noMask = faces.flatMap((f, faceIndex) => (f.violation ? [faceIndex] : []));
      const windowMs = deps.cooldownSeconds * 1000;
      const analysed = (result: Pick<FrameAnalyzeResult, 'violations' | 'createdAlertIds' | 'updatedAlertIds'> & { sightings: number }) => {
        log.info(
          {
            faces: faces.length,
            violating: noMask.length,
            sightings: result.sightings,
            violations: result.violations,
            created: result.createdAlertIds,
            updated: result.updatedAlertIds,
            ...input.logFields,
          },
          'frame analysed',
        );
        return finish(frame, {
          outcome: noMask.length > 0 ? 'violations' : 'clean',
          faces: faces.length,
          violations: result.violations,
          createdAlertIds: result.createdAlertIds,
          updatedAlertIds: result.updatedAlertIds,
        });
      };

      // A frame without a violating face changes something only if one of its faces continues a track
      // (or is a sighting-allowed no_mask face, which starts one). Many such frames — masked passers-by in the
      // incident window after a camera's violation — continue none: one read, without the transaction and
      // the camera lock, tells (planSightings). A transaction committing meanwhile orders this frame before
      // itself, an order the lock could equally have chosen.
      if (noMask.length === 0) {
        const history = await deps.incidents.recentSightings(frame.cameraId, frame.captured, windowMs, frame.frameId);
        const plan =
          history &&
          planSightings({
            frameId: frame.frameId,
            at: frame.captured.getTime(),
            faces: faces.map((face, faceIndex) => ({ faceIndex, box: face.box, probabilities: probabilities[faceIndex]!, violationAllowed: sightingAllowed(face) })),
            history,
            threshold: input.threshold,
            windowMs,
          });
        if (plan && plan.sightings.length === 0) {
          await input.removeInputs();
          return analysed({ sightings: 0, violations: 0, createdAlertIds: [], updatedAlertIds: [] });
        }
      }

      // Evidence only for frames with a violating face (privacy); written before the DB transaction so a
      // stored path always points at a file.
      const paths = snapshotPaths(frame.cameraId, frame.frameId, noMask);
      const sharpness = new Map<number, number>();
      let framePath: string | null = null;
      if (noMask.length > 0) {
        const evidence = await input.evidence(noMask);
        if (evidence.faceCrops.length !== noMask.length || evidence.sharpness.length !== noMask.length) {
          throw new Error(`evidence has ${evidence.faceCrops.length} crops for ${noMask.length} faces`);
        }
        noMask.forEach((faceIndex, i) => sharpness.set(faceIndex, evidence.sharpness[i]!));
        framePath = evidence.storedFrame ? paths.frame : null;
        await Promise.all([
          ...(evidence.storedFrame ? [writeFileAtomic(path.join(deps.dataDir, paths.frame), evidence.storedFrame)] : []),
          ...noMask.map((faceIndex, i) => writeFileAtomic(path.join(deps.dataDir, paths.faces.get(faceIndex)!), evidence.faceCrops[i]!)),
        ]);
      }

      const records: FaceRecord[] = faces.map((face, faceIndex) => {
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
      const groupAndStore = () =>
        deps.incidents.recordFrame({
          cameraId: frame.cameraId,
          frameId: frame.frameId,
          capturedAt: frame.captured,
          receivedAt: frame.received,
          frameSnapshotPath: framePath,
          faces: records,
          windowMs,
          decide: (state, camera) =>
            planIncidentFrame({
              frameId: frame.frameId,
              at: frame.captured.getTime(),
              faces: records,
              ...state,
              confirmation: resolveConfirmation(camera, deps.confirmation ?? DEFAULT_CONFIRMATION),
              threshold: input.threshold,
              windowMs,
            }),
        });

      const result = await deps.cameraLock.withLock(frame.cameraId, groupAndStore).catch(async (err: unknown) => {
        // The camera was deleted meanwhile (or its foreign key went with it, P2003); retrying cannot help.
        if (!(err instanceof CameraGoneError) && (err as { code?: string }).code !== 'P2003') throw err;
        await Promise.all([...(framePath ? [framePath] : []), ...paths.faces.values()].map((rel) => removeFile(path.join(deps.dataDir, rel))));
        await input.removeInputs();
        await finish(frame, { outcome: 'missing', ...EMPTY });
        throw new UnrecoverableError(`camera ${frame.cameraId} does not exist`);
      });

      await input.removeInputs(); // the evidence written above replaces them
      metrics?.violations.inc(result.violations);
      metrics?.alertsCreated.inc(result.createdAlertIds.length);

      // Alerts this frame created, including ones a crashed earlier attempt created but never announced
      // (the transaction found the frame already recorded). A first recording that created none (most
      // frames) needs no query: the transaction is all or nothing, so nothing else can exist.
      if (result.alreadyRecorded || result.createdAlertIds.length > 0) {
        await announceCreated(await deps.alerts.createdByFrame(frame.cameraId, frame.frameId));
      }
      for (const alertId of result.updatedAlertIds) await deps.updates.changed(alertId);

      return analysed(result);
    },
  };
}

export type AnalysisRecorder = ReturnType<typeof createAnalysisRecorder>;
