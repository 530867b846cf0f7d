/** The vision engine as this deployment's configuration sets it up (worker, edge agent, tests, benches). */
import type { VisionEngineOptions } from '../vision/engine.ts';
import type { Config } from './config.ts';

export function visionEngineOptions(config: Config, extra: Partial<VisionEngineOptions> = {}): VisionEngineOptions {
  return {
    assetsDir: config.assetsDir,
    faceScoreThreshold: config.vision.faceScoreThreshold,
    noMaskThreshold: config.vision.noMaskThreshold,
    incorrectMaskPolicy: config.vision.incorrectMaskPolicy,
    secondOpinion: config.vision.secondOpinion,
    minFaceSize: config.vision.minFaceSize,
    maxPixels: config.ingest.maxFramePixels,
    intraOpThreads: config.vision.intraOpThreads,
    ...extra,
  };
}
