import { readFileSync } from 'node:fs';
import { parseSceneSplit, SCENE_SPLIT_FILE } from './scene-split.ts';

/**
 * The REPORT side of kaggle-scenes-dev. Only the report step (`maskwatch
 * evaluate`, src/vision/protocol/report-run.ts) may import this module:
 * test/unit/vision-protocol.test.ts fails if anything reachable from
 * `maskwatch train` or from the chooser imports it.
 */
export function reportScenes(file = SCENE_SPLIT_FILE): string[] {
  const m = parseSceneSplit(readFileSync(file, 'utf8'), file);
  return Object.entries(m.sides)
    .filter(([, side]) => side === 'report')
    .map(([stem]) => stem)
    .sort();
}
