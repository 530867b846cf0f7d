import type { Estimate } from '../evaluation/bootstrap.ts';
import type { HeadArtifact } from '../head.ts';
import { SIZE_BUCKETS, type ProtocolReport, type SideReport } from './report-run.ts';

const f3 = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : v.toFixed(3));
const ci = (e: Estimate | undefined) => (e ? `**${f3(e.value)}** [${f3(e.lo)}, ${f3(e.hi)}]` : 'n/a');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function n(side: SideReport, k: string): number {
  return side.totals[k] ?? 0;
}

export function protocolMarkdown(r: ProtocolReport, head: Omit<HeadArtifact, 'weights'>, meta: { generatedAt: string; headPath: string; secondOpinion: string }): string {
  const [val, rep] = r.sides as [SideReport, SideReport];
  const t = head.training as Record<string, unknown>;
  const row = (label: string, key: string, count: (s: SideReport) => string) =>
    `| ${label} | ${ci(val.figures[key])} (${count(val)}) | ${ci(rep.figures[key])} (${count(rep)}) |`;
  // A refit (scripts/tail-finetune/refit.ts) learned on the val scenes too: its val column is in-sample.
  const refit = t.refit as { scenes: number; folds: number } | undefined;
  const lines = [
    '# MaskWatch — evaluation report',
    '',
    `Generated ${meta.generatedAt} by \`npx maskwatch evaluate\` (figures in \`evaluation.json\`, plot in \`evaluation.png\`).`,
    '',
    '## Protocol',
    '',
    '- `kaggle-scenes-dev` is split **by image** into train / val / report (`models/scene-split.json`, seeded, stratified by scenes holding an unmasked face ≥ 24 px or an incorrectly worn mask). The crops of `kaggle-face-crops-dev` are cut from these scenes and follow their scene.',
    refit
      ? `- The recipe (head variant, fine-tuned layers, learning rates) was chosen earlier on the **val** scenes and out-of-fold on the train scenes; the committed model is that recipe **refit on train + val** (${refit.scenes} scenes) by \`scripts/tail-finetune/refit.ts\`, with its epoch count and decision rule chosen on out-of-fold scores of those scenes (${refit.folds} folds by scene, each model trained on the others). It cannot read the report scenes: only this report step imports \`src/vision/protocol/report-split.ts\` (enforced by \`test/unit/vision-protocol.test.ts\`). **The val column below is therefore in-sample** (the model learned from those scenes) and shown only for reference.`
      : `- \`maskwatch train\` learns the head on the **train** scenes (${String((t.sceneSplit as Record<string, unknown> | undefined)?.trainScenes ?? '?')}) and chooses the head variant, the class thresholds and the violation gates on the **val** scenes (${val.scenes}). It cannot read the report scenes: only this report step imports \`src/vision/protocol/report-split.ts\` (enforced by \`test/unit/vision-protocol.test.ts\`).`,
    `- Chosen ${refit ? 'on the choosing side' : 'on val'}: variant \`${String(t.chosenVariant)}\` (${String(t.variantRule)}); decision rule \`${JSON.stringify(head.decision)}\` — ${String(t.decisionRule)}. Detector: ${String(t.detector)} (score ≥ ${String(t.detectorThreshold)}, faces ≥ ${String(t.minFaceSize)} px), unchanged from the previous release (its recall was measured on the whole dev set before this protocol; no detector was re-chosen here).`,
    `- **Report** figures (${rep.scenes} scenes never used for choosing or training) are the ones to quote; val figures are shown for reference and are optimistic by construction. Brackets: 95 % percentile bootstrap over images (2,000 resamples).`,
    `- Figures come from the real engine (\`analyzeFrame\`: detector → crops → backbone → head → decision rule → mirrored look and second opinion \`${meta.secondOpinion}\` on accused faces, policy \`MASKWATCH_INCORRECT_MASK=violation\`), scored with the rules of \`../shared/tools/score_detections.py\` (greedy IoU ≥ 0.4, faces < 24 px and \`mask_weared_incorrect\` are don't-care for violations).`,
    '',
    '## Targets (report split)',
    '',
    '| target | required | measured [95 % CI] | |',
    '|---|---|---|---|',
    ...r.targets.map((x) => `| ${x.name} | ${x.op} ${x.target} | ${ci(x)} | ${x.met ? 'met' : '**MISSED**'} |`),
    '',
    '## Scenes: detector + classifier, faces ≥ 24 px',
    '',
    '| figure | val [95 % CI] (counts) | report [95 % CI] (counts) |',
    '|---|---|---|',
    row('violation precision', 'violation_precision', (s) => `${n(s, 'viol_tp')} / ${n(s, 'viol_tp') + n(s, 'viol_fp')}`),
    row('violation recall', 'violation_recall', (s) => `${n(s, 'viol_tp')} / ${n(s, 'viol_tp') + n(s, 'viol_fn')}`),
    row('face recall, masked', 'face_recall_masked', (s) => `${n(s, 'hit_mask')} / ${n(s, 'gt_mask')}`),
    row('face recall, unmasked', 'face_recall_unmasked', (s) => `${n(s, 'hit_nomask')} / ${n(s, 'gt_nomask')}`),
    row('incorrectly worn → mask_incorrect (all annotated)', 'incorrect_labelled_incorrect', (s) => `${n(s, 'inc_as_inc')} / ${n(s, 'inc_gt')}`),
    row('incorrectly worn → mask_incorrect (detected)', 'incorrect_labelled_incorrect_detected', (s) => `${n(s, 'inc_as_inc')} / ${n(s, 'inc_hit')}`),
    row('masked (detected) → mask_incorrect', 'masked_labelled_incorrect', (s) => `${n(s, 'mask_as_inc')} / ${n(s, 'mask_hit')}`),
    '',
    '## Label accuracy by face size (detected faces matched to an annotation)',
    '',
    'Shorter side of the annotated box. mask = labelled `mask`; no_mask = labelled `no_mask`; balanced = their mean.',
    '',
    '| size | val mask | val no_mask | report mask | report no_mask | report balanced |',
    '|---|---|---|---|---|---|',
    ...SIZE_BUCKETS.map((b) => {
      const cnt = (s: SideReport, l: string) => `${n(s, `ok:${l}@${b}`)}/${n(s, `n:${l}@${b}`)}`;
      return `| ${b} px | ${f3(val.figures[`accuracy_mask@${b}`]?.value)} (${cnt(val, 'with_mask')}) | ${f3(val.figures[`accuracy_no_mask@${b}`]?.value)} (${cnt(val, 'without_mask')}) | ${ci(rep.figures[`accuracy_mask@${b}`])} (${cnt(rep, 'with_mask')}) | ${ci(rep.figures[`accuracy_no_mask@${b}`])} (${cnt(rep, 'without_mask')}) | ${ci(rep.figures[`balanced_accuracy@${b}`])} |`;
    }),
    '',
    '## Ground-truth face crops (kaggle-face-crops-dev, whole crop as the face, as `maskwatch classify`)',
    '',
    'A masked crop counts as right unless labelled `no_mask`; an unmasked one only when labelled `no_mask`.',
    '',
    '| figure | val | report |',
    '|---|---|---|',
    row('balanced accuracy (mask vs no_mask)', 'crops_balanced_accuracy', (s) => `${n(s, 'crop_mask') + n(s, 'crop_nomask')} crops`),
    row('masked crops not called no_mask', 'crops_mask_recall', (s) => `${n(s, 'crop_mask_ok')} / ${n(s, 'crop_mask')}`),
    row('unmasked crops called no_mask', 'crops_no_mask_recall', (s) => `${n(s, 'crop_nomask_ok')} / ${n(s, 'crop_nomask')}`),
    row('incorrectly worn crops called mask_incorrect', 'crops_incorrect_labelled_incorrect', (s) => `${n(s, 'crop_inc_ok')} / ${n(s, 'crop_inc')}`),
    '',
    '## Head',
    '',
    `\`${meta.headPath}\`: ${head.backbone.tail ? 'fine-tuned' : 'frozen'} ${head.backbone.name} (sha256 ${head.backbone.sha256.slice(0, 12)}…${head.backbone.tail ? `; ${String(t.fineTuned ?? 'last layers fine-tuned')}: \`${head.backbone.tail.file}\`, sha256 ${head.backbone.tail.sha256.slice(0, 12)}…` : ''}, tensor ${head.backbone.featureTensor}, mean-pooled) → Dense(${head.architecture.hidden}, ReLU) → Dropout(${head.architecture.dropout}) → Dense(3, softmax), trained with ${String(t.framework ?? 'plain JS')}. Training data: ${String(t.data)}. Counts: \`${JSON.stringify(t.counts)}\`. ${refit ? 'Refit' : 'Variants compared on val'}: \`${JSON.stringify(t.variants)}\`.`,
    '',
    refit
      ? 'Reproduce: the steps at the top of `scripts/tail-finetune/refit.ts`, then `npx maskwatch evaluate` (exits 1 when a report-split target is missed).'
      : head.backbone.tail
      ? 'Reproduce: `scripts/tail-finetune/` (reports/error-analysis-val.md), `npx maskwatch train --rechoose models/mask-head.json`, then `npx maskwatch evaluate` (exits 1 when a report-split target is missed).'
      : 'Reproduce: `npx maskwatch train` (features cached in `.cache/`), then `npx maskwatch evaluate` (exits 1 when a report-split target is missed).',
    '',
  ];
  return lines.join('\n');
}

/** Report-split figures with their intervals against the targets, as a plot. */
export function protocolSvg(r: ProtocolReport): string {
  const rep = r.sides[1]!;
  const items: Array<{ label: string; e: Estimate; target?: number }> = [
    ...r.targets.map((t) => ({ label: t.name, e: t as Estimate, target: t.target })),
    ...SIZE_BUCKETS.map((b) => ({ label: `balanced accuracy, faces ${b} px`, e: rep.figures[`balanced_accuracy@${b}`]! })),
  ];
  const W = 900;
  const left = 430;
  const plotW = W - left - 40;
  const rowH = 26;
  const H = 70 + items.length * rowH + 30;
  const x = (v: number) => left + v * plotW;
  const rows = items.map((it, i) => {
    const y = 60 + i * rowH;
    const e = it.e;
    const parts = [`<text x="${left - 8}" y="${y + 4}" font-size="11" text-anchor="end">${esc(it.label)}</text>`];
    if (e.lo !== null && e.hi !== null) parts.push(`<line x1="${x(e.lo)}" x2="${x(e.hi)}" y1="${y}" y2="${y}" stroke="#1f6feb" stroke-width="2"/>`);
    if (e.value !== null) parts.push(`<circle cx="${x(e.value)}" cy="${y}" r="4" fill="#1f6feb"/><text x="${x(e.value) + 6}" y="${y - 5}" font-size="9">${e.value.toFixed(3)}</text>`);
    if (it.target !== undefined) parts.push(`<line x1="${x(it.target)}" x2="${x(it.target)}" y1="${y - 8}" y2="${y + 8}" stroke="#d1242f" stroke-width="2"/>`);
    return parts.join('');
  });
  const grid = [0, 0.2, 0.4, 0.6, 0.8, 1].map((v) => `<line x1="${x(v)}" x2="${x(v)}" y1="45" y2="${H - 30}" stroke="#eee"/><text x="${x(v)}" y="${H - 15}" font-size="10" text-anchor="middle">${v}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="24" font-size="15" font-weight="bold">MaskWatch vision — report split (${rep.scenes} scenes never used for choosing)</text>
<text x="12" y="40" font-size="11" fill="#444">dot = figure, blue bar = 95 % bootstrap interval over images, red tick = target</text>
${grid.join('')}
${rows.join('\n')}
</svg>`;
}
