// Regenerates models/scene-split.json (the protocol split of kaggle-scenes-dev). Run once; the manifest is committed.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseVocAnnotation } from '../src/vision/evaluation/detection.ts';
import { makeSceneSplit, SCENE_SPLIT_FILE } from '../src/vision/protocol/scene-split.ts';
const dir = path.join(process.env.MASKWATCH_ASSETS ?? '../shared', 'datasets/kaggle-scenes-dev/annotations');
const scenes: Array<{ stem: string; hasNoMask: boolean; hasIncorrect: boolean }> = [];
for (const f of (await readdir(dir)).filter((f) => f.endsWith('.xml'))) {
  const gt = parseVocAnnotation(await readFile(path.join(dir, f), 'utf8'));
  scenes.push({ stem: f.slice(0, -4), hasNoMask: gt.some((g) => g.label === 'without_mask' && Math.min(g.box[2], g.box[3]) >= 24), hasIncorrect: gt.some((g) => g.label === 'mask_weared_incorrect') });
}
const m = makeSceneSplit(scenes);
await writeFile(SCENE_SPLIT_FILE, JSON.stringify(m, null, 1) + '\n');
const count = (side: string) => { const st = scenes.filter((s) => m.sides[s.stem] === side); return { n: st.length, nomask: st.filter((s) => s.hasNoMask).length, inc: st.filter((s) => s.hasIncorrect).length }; };
console.log(count('train'), count('val'), count('report'));
