// Scores scripts/tail-finetune/train.py results with the same chooser as `maskwatch train` (choosing side only).
//   npx tsx scripts/tail-finetune/choose.ts ARM SEED   → val (ARM-sSEED.json) and, when the five fold files
//                                                        ARM-sSEED-f0..4.json exist, out-of-fold on the train scenes
import { existsSync, readFileSync } from 'node:fs';
import type { Box } from '../../src/vision/types.ts';
import type { GtFace } from '../../src/vision/evaluation/detection.ts';
import { chooseRule, type ScoredScene } from '../../src/vision/train/choose.ts';
import { balancedLoss } from '../lib/balanced-loss.ts';
import { noMaskRanking, ruleOutcome } from '../lib/no-mask-ranking.ts';

type Row = { stem: string; box: Box; score: number; y: number | null };
type Result = { best: { epoch: number; valLoss: number; probs: number[][]; oofRows?: number[]; oofProbs?: number[][] } };
const read = <T>(f: string) => JSON.parse(readFileSync(`.cache/tail/${f}`, 'utf8')) as T;
const [arm, seed] = process.argv.slice(2);

function scenesOf(gt: Array<{ stem: string; gt: GtFace[] }>, rows: Row[], probs: number[][], rowIdx?: number[]): ScoredScene[] {
  const scenes = new Map(gt.map((g) => [g.stem, { stem: g.stem, gt: g.gt, dets: [] } as ScoredScene]));
  probs.forEach((p, k) => {
    const row = rows[rowIdx ? rowIdx[k]! : k]!;
    scenes.get(row.stem)!.dets.push({ box: row.box, score: row.score, p: { mask: p[0]!, no_mask: p[1]!, mask_incorrect: p[2]! } });
  });
  return [...scenes.values()];
}

/** Class-balanced cross-entropy over the labelled rows among `probs` (row k, or rowIdx[k]). */
const lossOf = (rows: Row[], probs: number[][], rowIdx?: number[]) => balancedLoss(probs.map((p, k) => ({ p, y: rows[rowIdx ? rowIdx[k]! : k]!.y })));

const val = read<Result>(`${arm}-s${seed}.json`);
const valRows = read<{ rows: Row[] }>('val.json').rows;
const valScenes = scenesOf(read('val-gt.json'), valRows, val.best.probs);
const cv = chooseRule(valScenes);
const out: Record<string, unknown> = { arm, seed: Number(seed), epoch: val.best.epoch, valLoss: lossOf(valRows, val.best.probs), valObjective: +cv.validation.objective.toFixed(3), valPR: [cv.validation.precision, cv.validation.recall], valIncorrect: cv.validation.incorrectRecall, aucVal: noMaskRanking(valScenes), valRule: cv.rule };
const folds = [0, 1, 2, 3, 4].map((k) => `${arm}-s${seed}-f${k}.json`);
if (folds.every((f) => existsSync(`.cache/tail/${f}`))) {
  const trainRows = read<{ rows: Row[] }>('train-dets.json').rows;
  const trainGt = read<Array<{ stem: string; fold: number; gt: GtFace[] }>>('train-gt.json');
  const oof: ScoredScene[] = [];
  let lossSum = 0, n = 0;
  folds.forEach((f, k) => {
    const r = read<Result>(f);
    oof.push(...scenesOf(trainGt.filter((g) => g.fold === k), trainRows, r.best.oofProbs!, r.best.oofRows!));
    const labelled = r.best.oofRows!.filter((i) => trainRows[i]!.y !== null).length;
    lossSum += lossOf(trainRows, r.best.oofProbs!, r.best.oofRows!) * labelled;
    n += labelled;
  });
  const co = chooseRule(oof);
  Object.assign(out, { oofLoss: +(lossSum / n).toFixed(4), oofObjective: +co.validation.objective.toFixed(3), oofPR: [co.validation.precision, co.validation.recall], aucOof: noMaskRanking(oof), valRuleOnOof: ruleOutcome(oof, cv.rule), oofRuleOnVal: ruleOutcome(valScenes, co.rule) });
}
console.log(JSON.stringify(out));
