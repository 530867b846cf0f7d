/**
 * The analysis step of 'frame.analyze': frame → faces, doing less work when the
 * camera's previous frame allows it (domain/analysis-reuse.ts):
 *   - an unchanged frame (thumbnail difference ≤ MASKWATCH_UNCHANGED_THRESHOLD)
 *     skips the detector and carries the previous faces over;
 *   - otherwise the engine detects, and classifies only the faces that do not
 *     continue a confident, recently classified face (MASKWATCH_RECLASSIFY_EVERY).
 * The camera's last state lives in Redis (queue/analysis-state.ts), so any
 * worker process can continue where another left off; without a usable state
 * the frame is analysed in full. Everything after this step (recording, tracks,
 * confirmation) sees the faces as if they had all been analysed on this frame.
 */
import type { Logger } from 'pino';
import { canReuse, canSkipDetection, reusableVerdicts, usableState, type ReuseSettings } from '../../domain/analysis-reuse.ts';
import { frameThumbnail, thumbnailDifference } from '../../vision/frame-diff.ts';
import type { DecodedImage } from '../../vision/image.ts';
import type { AnalyzeOptions, Box, FaceResult, FrameAnalysis, VisionEngine } from '../../vision/types.ts';
import type { AnalysisStateStore, StoredAnalysisState, StoredFace } from '../analysis-state.ts';
import type { WorkerMetrics } from './metrics.ts';

export interface AnalysisStepDeps {
  engine: Pick<VisionEngine, 'analyzeFrame'>;
  analyzeOptions?: AnalyzeOptions;
  settings: ReuseSettings;
  /** The cameras' last states; without it every frame is analysed in full. */
  store?: AnalysisStateStore;
  /** Pixel limit of the thumbnail decode (config.ingest.maxFramePixels). */
  maxPixels?: number;
  /** Default vision/frame-diff.ts frameThumbnail (benchmarks pass cached thumbnails). */
  thumbnail?: (image: Buffer) => Promise<Uint8Array>;
  metrics?: WorkerMetrics;
  logger: Logger;
}

export interface AnalysisStepResult {
  analysis: FrameAnalysis;
  /** The detector was skipped (frame unchanged): the previous faces were carried over, classified again only where due or uncertain. */
  unchanged: boolean;
  /** Thumbnail difference to the previous analysed frame, when there was one to compare with. */
  difference: number | null;
  classified: number;
  reused: number;
}

/**
 * `pixels`, when given, decodes the frame (once, memoised by the caller): the engine then works on those
 * pixels, and the caller reuses them for the evidence instead of decoding the frame again.
 */
export type AnalysisStep = (frame: { cameraId: string; captured: Date }, image: Buffer, pixels?: () => Promise<DecodedImage>) => Promise<AnalysisStepResult>;

/** An unchanged frame's faces: the previous ones, verdicts and all, marked reused. */
function carriedOver(state: StoredAnalysisState): FaceResult[] {
  return state.faces.map((f) => ({
    box: [...f.box],
    score: f.score,
    label: f.label,
    violation: f.violation,
    noMaskProbability: f.probabilities.no_mask,
    maskProbability: f.probabilities.no_mask,
    probabilities: { ...f.probabilities },
    reused: true,
  }));
}

export function createAnalysisStep(deps: AnalysisStepDeps): AnalysisStep {
  const { settings, store, metrics, logger } = deps;
  const enabled = store !== undefined && settings.reclassifyEvery > 1;
  const compare = enabled && settings.unchangedThreshold > 0;
  const thumbnailOf = deps.thumbnail ?? ((image: Buffer) => frameThumbnail(image, { maxPixels: deps.maxPixels }));

  const count = (r: AnalysisStepResult) => {
    if (r.unchanged) metrics?.framesUnchanged.inc();
    metrics?.facesClassified.inc(r.classified);
    if (r.reused) metrics?.facesReused.inc({ reason: r.unchanged ? 'unchanged_frame' : 'track' }, r.reused);
    return r;
  };

  return async function analyze(frame, image, pixels) {
    const input = async () => (pixels ? pixels() : image);
    if (!enabled) {
      const analysis = await deps.engine.analyzeFrame(await input(), deps.analyzeOptions);
      return count({ analysis, unchanged: false, difference: null, classified: analysis.faces.length, reused: 0 });
    }
    const at = frame.captured.getTime();
    const [stored, thumbnail] = await Promise.all([
      store.load(frame.cameraId).catch((err: unknown) => {
        logger.warn({ err: (err as Error).message, cameraId: frame.cameraId }, 'last analysis state unavailable: analysing in full');
        return null;
      }),
      // An unreadable image is left to the engine, which says why (ImageInputError).
      compare ? thumbnailOf(image).catch(() => null) : Promise.resolve(null),
    ]);
    const previous = usableState(stored, at, settings.maxGapMs) ? stored : null;
    const difference =
      previous?.thumbnail && thumbnail && previous.thumbnail.length === thumbnail.length ? thumbnailDifference(previous.thumbnail, thumbnail) : null;

    // Unchanged: the detector is skipped and the previous faces are this frame's; those whose verdict is due
    // or uncertain are classified on their previous boxes (no engine call at all when none is).
    const unchanged = previous !== null && canSkipDetection(previous, difference, settings);
    let reuseCounts: (number | null)[] = [];
    let analysis: FrameAnalysis;
    if (unchanged && previous.faces.every((f) => canReuse(f, settings))) {
      analysis = { width: previous.width, height: previous.height, faces: carriedOver(previous) };
      reuseCounts = previous.faces.map((f) => f.reuseCount + 1);
    } else {
      analysis = await deps.engine.analyzeFrame(await input(), {
        ...deps.analyzeOptions,
        faces: unchanged ? previous.faces.map((f) => ({ box: [...f.box] as Box, score: f.score })) : undefined,
        knownVerdicts: previous
          ? (faces) => {
              const verdicts = reusableVerdicts(previous.faces, faces.map((f) => f.box), settings);
              reuseCounts = verdicts.map((v) => v?.reuseCount ?? null);
              return verdicts.map((v) => v?.probabilities ?? null);
            }
          : undefined,
      });
    }
    const faces: StoredFace[] = analysis.faces.map((f, i) => ({
      box: f.box,
      score: f.score,
      probabilities: { ...f.probabilities },
      label: f.label,
      violation: f.violation,
      reuseCount: f.reused ? (reuseCounts[i] ?? 1) : 0,
    }));
    const reused = analysis.faces.filter((f) => f.reused).length;
    const result: AnalysisStepResult = { analysis, unchanged, difference, classified: analysis.faces.length - reused, reused };
    const next: StoredAnalysisState = {
      capturedAt: at,
      width: analysis.width,
      height: analysis.height,
      // The reference stays the last frame the detector saw: slow drift cannot creep past the threshold.
      thumbnail: unchanged ? previous.thumbnail : thumbnail,
      unchangedRun: unchanged ? previous.unchangedRun + 1 : 0,
      faces,
    };
    await store
      .save(frame.cameraId, next, { unchanged: result.unchanged ? 1 : 0, classified: result.classified, reused: result.reused })
      .catch((err: unknown) => logger.warn({ err: (err as Error).message, cameraId: frame.cameraId }, 'could not store the analysis state'));
    logger.debug(
      { cameraId: frame.cameraId, unchanged: result.unchanged, difference, classified: result.classified, reused: result.reused, previous: previous !== null },
      'analysis step',
    );
    return count(result);
  };
}
