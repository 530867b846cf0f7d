import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../paths.ts';
import { mulberry32, shuffled } from '../train/rng.ts';

/**
 * The evaluation protocol's split of kaggle-scenes-dev, BY IMAGE (a scene and
 * all its faces stay on one side):
 *  - `train`: the head learns from its faces;
 *  - `val`: every threshold, gate and variant is chosen on it;
 *  - `report`: only the report step reads it (src/vision/protocol/report-split.ts);
 *    nothing that chooses anything may import that module (test/unit/vision-protocol.test.ts).
 * The face crops of kaggle-face-crops-dev are cut from these scenes
 * (`<scene>_<n>.jpg`), so they follow their scene's side.
 *
 * The manifest is committed (models/scene-split.json) so the split cannot
 * drift with code changes; makeSceneSplit documents how it was made.
 */
export type SceneSide = 'train' | 'val' | 'report';
export type ChoosingSide = Exclude<SceneSide, 'report'>;

export const SCENE_SPLIT_FILE = path.join(REPO_ROOT, 'models', 'scene-split.json');
export const SCENE_SPLIT_FRACTIONS: Record<SceneSide, number> = { train: 0.45, val: 0.25, report: 0.3 };
export const SCENE_SPLIT_SEED = 2026;

export interface SceneSplitManifest {
  format: 'maskwatch-scene-split/1';
  dataset: 'kaggle-scenes-dev';
  rule: string;
  seed: number;
  fractions: Record<SceneSide, number>;
  sides: Record<string, SceneSide>;
}

/** Scene stem of a kaggle-face-crops-dev file (`maksssksksss12_3.jpg` → `maksssksksss12`). */
export function cropScene(file: string): string {
  const m = /^(.+?)(?:_\d+)?\.[a-z]+$/i.exec(file);
  if (!m) throw new Error(`not a face crop file name: ${file}`);
  return m[1]!;
}

/**
 * Seeded split stratified by what a scene contains (an unmasked face ≥ 24 px,
 * an incorrectly worn mask), so every side gets its share of the rare cases.
 */
export function makeSceneSplit(scenes: Array<{ stem: string; hasNoMask: boolean; hasIncorrect: boolean }>, seed = SCENE_SPLIT_SEED): SceneSplitManifest {
  const strata = new Map<string, string[]>();
  for (const s of [...scenes].sort((a, b) => a.stem.localeCompare(b.stem))) {
    const key = `${s.hasNoMask ? 1 : 0}${s.hasIncorrect ? 1 : 0}`;
    strata.set(key, [...(strata.get(key) ?? []), s.stem]);
  }
  const sides: Record<string, SceneSide> = {};
  const rng = mulberry32(seed);
  for (const key of [...strata.keys()].sort()) {
    const stems = shuffled(strata.get(key)!, rng);
    const nReport = Math.round(stems.length * SCENE_SPLIT_FRACTIONS.report);
    const nVal = Math.round(stems.length * SCENE_SPLIT_FRACTIONS.val);
    stems.forEach((stem, i) => (sides[stem] = i < nReport ? 'report' : i < nReport + nVal ? 'val' : 'train'));
  }
  return {
    format: 'maskwatch-scene-split/1',
    dataset: 'kaggle-scenes-dev',
    rule: 'by image; seeded shuffle within strata (has without_mask ≥ 24 px, has mask_weared_incorrect); report = first 30 %, val = next 25 %, train = rest',
    seed,
    fractions: SCENE_SPLIT_FRACTIONS,
    sides: Object.fromEntries(Object.entries(sides).sort(([a], [b]) => a.localeCompare(b))),
  };
}

export function parseSceneSplit(json: string, source = SCENE_SPLIT_FILE): SceneSplitManifest {
  const m = JSON.parse(json) as SceneSplitManifest;
  if (m.format !== 'maskwatch-scene-split/1' || !m.sides || typeof m.sides !== 'object') throw new Error(`${source} is not a scene split manifest`);
  return m;
}

/**
 * The scenes code that CHOOSES things may see: train and val only. Report
 * scenes are not returned by anything in this module.
 */
export function choosingScenes(file = SCENE_SPLIT_FILE): Record<ChoosingSide, string[]> {
  const m = parseSceneSplit(readFileSync(file, 'utf8'), file);
  const out: Record<ChoosingSide, string[]> = { train: [], val: [] };
  for (const [stem, side] of Object.entries(m.sides)) if (side !== 'report') out[side].push(stem);
  return out;
}

/** Side of a scene for choosing code: the report side is reported as 'hidden', never named. */
export function choosingSideOf(stem: string, file = SCENE_SPLIT_FILE): ChoosingSide | 'hidden' | undefined {
  const side = parseSceneSplit(readFileSync(file, 'utf8'), file).sides[stem];
  return side === 'report' ? 'hidden' : side;
}
