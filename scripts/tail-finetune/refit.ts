// The chosen recipe (b16, tail lr 1e-5) refit on ALL choosing scenes (train + val; the report scenes are never
// read): picks, on out-of-fold scores only, the number of epochs and the decision rule for the refit.
//   REFIT=1 npx tsx scripts/tail-finetune/export.ts
//   for k in 0 1 2 3 4; do REFIT=1 EPOCHS=6 /usr/bin/python3 scripts/tail-finetune/train.py b16 42 $k; done
//   npx tsx scripts/tail-finetune/refit.ts b16 42          → .cache/tail-refit/choice.json
//   REFIT=1 EPOCHS=<its epochs> /usr/bin/python3 scripts/tail-finetune/train.py b16 42
//   REFIT=1 npx tsx scripts/tail-finetune/artifact.ts b16 42
// The out-of-fold models at those epochs, for choosing the second looks and the incident confirmation settings on scenes and clips no model saw
// (this overwrites the fold files above, so it comes after refit.ts):
//   for k in 0 1 2 3 4; do REFIT=1 EPOCHS=<its epochs> /usr/bin/python3 scripts/tail-finetune/train.py b16 42 $k &&
//     REFIT=1 npx tsx scripts/tail-finetune/artifact.ts b16 42 $k; done     → .cache/oof-heads/
//   npx tsx scripts/second-opinion-val.ts --oof-heads .cache/oof-heads   (AIZOO's rule, reports/second-opinion-oof.md)
//   npm run bench:incidents -- --oof-heads .cache/oof-heads
// Epochs: the lowest pooled out-of-fold loss (5 folds by scene, each model trained on the other 4). Rule:
// maskwatch train's chooser on the out-of-fold scores at those epochs. A model trained on 4/5 of the scenes is
// a little less sure than the refit, so the rule is, if anything, a little strict for it.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Box } from '../../src/vision/types.ts';
import type { GtFace } from '../../src/vision/evaluation/detection.ts';
import { chooseRule, type ScoredScene } from '../../src/vision/train/choose.ts';
import { balancedLoss } from '../lib/balanced-loss.ts';
import { noMaskRanking } from '../lib/no-mask-ranking.ts';

type Row = { stem: string; fold: number; box: Box; score: number; y: number | null };
type FoldResult = { history: Array<{ epoch: number; valLoss: number; probs: number[][] }>; best: { oofRows: number[] } };
const DIR = '.cache/tail-refit';
const read = <T>(f: string) => JSON.parse(readFileSync(`${DIR}/${f}`, 'utf8')) as T;
const [arm = 'b16', seed = '42'] = process.argv.slice(2);

const rows = read<{ rows: Row[] }>('train-dets.json').rows;
const gt = read<Array<{ stem: string; fold: number; gt: GtFace[] }>>('train-gt.json');
const folds = [0, 1, 2, 3, 4].map((k) => read<FoldResult>(`${arm}-s${seed}-f${k}.json`));
const epochs = Math.min(...folds.map((f) => f.history.length));

/** Pooled class-balanced cross-entropy over the labelled out-of-fold detections at one epoch. */
const oofLoss = (epoch: number) => balancedLoss(folds.flatMap((f) => f.history[epoch - 1]!.probs.map((p, k) => ({ p, y: rows[f.best.oofRows[k]!]!.y }))));

function oofScenes(epoch: number): ScoredScene[] {
  const scenes = new Map(gt.map((g) => [g.stem, { stem: g.stem, gt: g.gt, dets: [] } as ScoredScene]));
  for (const f of folds) {
    f.history[epoch - 1]!.probs.forEach((p, k) => {
      const row = rows[f.best.oofRows[k]!]!;
      scenes.get(row.stem)!.dets.push({ box: row.box, score: row.score, p: { mask: p[0]!, no_mask: p[1]!, mask_incorrect: p[2]! } });
    });
  }
  return [...scenes.values()];
}

const perEpoch = Array.from({ length: epochs }, (_, e) => ({ epoch: e + 1, oofLoss: oofLoss(e + 1) }));
const chosen = perEpoch.reduce((a, b) => (b.oofLoss < a.oofLoss ? b : a));
const scenes = oofScenes(chosen.epoch);
const choice = chooseRule(scenes);
const out = {
  arm, seed: Number(seed), scenes: scenes.length, perEpoch, epochs: chosen.epoch,
  rule: choice.rule, validation: choice.validation, ranking: noMaskRanking(scenes),
  how: `${choice.how.replaceAll('validation scenes', 'out-of-fold scores of all choosing scenes').replaceAll('validation masked', 'out-of-fold masked')}; epochs: the lowest pooled out-of-fold loss (5 folds by scene over train + val)`,
};
writeFileSync(`${DIR}/choice.json`, `${JSON.stringify(out, null, 1)}\n`);
console.log(JSON.stringify({ ...out, how: undefined }));
