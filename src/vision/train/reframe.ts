import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FaceDetection, FaceDetector } from '../detector/types.ts';
import { decodeForTraining } from './features.ts';
import type { Box } from '../types.ts';
import type { HashedSample } from './dedupe.ts';
import type { Progress } from './progress.ts';

/**
 * Training photos are framed every which way (loose head-and-shoulders in the
 * seed set, tight celebrity crops in chandrikadeb7); at run time the
 * classifier sees detector box + margin. Re-framing the training photos with
 * the same detector and margin removes "framing" as a shortcut feature.
 */
export const REFRAME_SCORE = 0.5;

/** The largest confident face, or null (the whole photo is then used as is). */
export function pickFace(detections: FaceDetection[], minScore = REFRAME_SCORE): Box | null {
  let best: Box | null = null;
  let bestArea = 0;
  for (const d of detections) {
    const area = d.box[2] * d.box[3];
    if (d.score >= minScore && area > bestArea) {
      best = d.box;
      bestArea = area;
    }
  }
  return best;
}

/** Face box per content hash (null = no face found), cached in a JSON file keyed by detector name. */
export async function detectTrainingFaces(
  samples: HashedSample[],
  deps: { detector: FaceDetector; cacheDir: string; progress: Progress },
): Promise<Map<string, Box | null>> {
  const file = path.join(deps.cacheDir, `face-boxes-${deps.detector.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.json`);
  const cached: Record<string, Box | null> = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, Box | null>) : {};
  const out = new Map<string, Box | null>();
  let added = 0;
  for (const s of samples) {
    if (!(s.md5 in cached)) {
      const img = await decodeForTraining(s.path);
      cached[s.md5] = pickFace(await deps.detector.detect(img, REFRAME_SCORE));
      added++;
    }
    out.set(s.md5, cached[s.md5]!);
    deps.progress.tick();
  }
  if (added > 0) {
    await mkdir(deps.cacheDir, { recursive: true });
    await writeFile(file, JSON.stringify(cached));
  }
  return out;
}
