import sharp from 'sharp';
import { prCurve, type ClassificationMetrics } from './classification.ts';

/** One evaluated set: metrics plus the raw scores (for curves). */
export interface EvaluatedSet {
  id: string;
  title: string;
  note?: string;
  metrics: ClassificationMetrics;
  labels: number[];
  scores: number[];
}

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const f3 = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));

/** Markdown table block for one set. */
export function setMarkdown(s: EvaluatedSet): string {
  const m = s.metrics;
  const c = m.confusion;
  return [
    `### ${s.title}`,
    '',
    s.note ? `${s.note}\n` : '',
    `n = ${m.n} · accuracy **${pct(m.accuracy)}** · balanced accuracy **${pct(m.balancedAccuracy)}** · ROC-AUC ${f3(m.rocAuc)} (threshold ${m.threshold})`,
    '',
    '| class | precision | recall | F1 | support | average precision |',
    '|---|---|---|---|---|---|',
    `| mask | ${f3(m.perClass.mask.precision)} | ${f3(m.perClass.mask.recall)} | ${f3(m.perClass.mask.f1)} | ${m.perClass.mask.support} | ${f3(m.averagePrecision.mask)} |`,
    `| no_mask | ${f3(m.perClass.no_mask.precision)} | ${f3(m.perClass.no_mask.recall)} | ${f3(m.perClass.no_mask.f1)} | ${m.perClass.no_mask.support} | ${f3(m.averagePrecision.no_mask)} |`,
    '',
    '| actual \\ predicted | mask | no_mask |',
    '|---|---|---|',
    `| mask | ${c[0][0]} | ${c[0][1]} |`,
    `| no_mask | ${c[1][0]} | ${c[1][1]} |`,
    '',
  ].join('\n');
}

function esc(t: string): string {
  return t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ROW_H = 280;
const WIDTH = 760;

function confusionSvg(s: EvaluatedSet, x: number, y: number): string {
  const c = s.metrics.confusion;
  const cell = 80;
  const parts: string[] = [];
  const names = ['mask', 'no_mask'];
  for (let a = 0; a < 2; a++) {
    const rowTotal = c[a as 0 | 1][0] + c[a as 0 | 1][1] || 1;
    for (let p = 0; p < 2; p++) {
      const v = c[a as 0 | 1][p as 0 | 1];
      const share = v / rowTotal;
      // Row-normalised shade: the diagonal reads as recall.
      const shade = Math.round(255 - share * 200);
      const cx = x + 70 + p * cell;
      const cy = y + 40 + a * cell;
      parts.push(`<rect x="${cx}" y="${cy}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#333"/>`);
      parts.push(`<text x="${cx + cell / 2}" y="${cy + cell / 2}" text-anchor="middle" font-size="16" fill="${share > 0.6 ? '#fff' : '#000'}">${v}</text>`);
      parts.push(`<text x="${cx + cell / 2}" y="${cy + cell / 2 + 18}" text-anchor="middle" font-size="11" fill="${share > 0.6 ? '#fff' : '#333'}">${(share * 100).toFixed(1)}%</text>`);
    }
    parts.push(`<text x="${x + 64}" y="${y + 40 + a * cell + cell / 2 + 4}" text-anchor="end" font-size="12">${names[a]}</text>`);
    parts.push(`<text x="${x + 70 + a * cell + cell / 2}" y="${y + 34}" text-anchor="middle" font-size="12">${names[a]}</text>`);
  }
  parts.push(`<text x="${x + 70 + cell}" y="${y + 18}" text-anchor="middle" font-size="11" fill="#555">predicted</text>`);
  parts.push(`<text x="${x + 10}" y="${y + 40 + cell}" font-size="11" fill="#555" transform="rotate(-90 ${x + 10} ${y + 40 + cell})" text-anchor="middle">actual</text>`);
  return parts.join('');
}

function prSvg(s: EvaluatedSet, x: number, y: number): string {
  const w = 200;
  const h = 170;
  const ox = x + 40;
  const oy = y + 20;
  const parts: string[] = [`<rect x="${ox}" y="${oy}" width="${w}" height="${h}" fill="#fafafa" stroke="#333"/>`];
  for (const t of [0, 0.5, 1]) {
    parts.push(`<text x="${ox - 4}" y="${oy + h - t * h + 4}" text-anchor="end" font-size="10">${t}</text>`);
    parts.push(`<text x="${ox + t * w}" y="${oy + h + 14}" text-anchor="middle" font-size="10">${t}</text>`);
  }
  parts.push(`<text x="${ox + w / 2}" y="${oy + h + 28}" text-anchor="middle" font-size="11" fill="#555">recall</text>`);
  parts.push(`<text x="${ox - 28}" y="${oy + h / 2}" font-size="11" fill="#555" transform="rotate(-90 ${ox - 28} ${oy + h / 2})" text-anchor="middle">precision</text>`);
  const colours: Record<number, string> = { 1: '#d62728', 0: '#1f77b4' };
  ([1, 0] as const).forEach((positive, k) => {
    const pts = prCurve(s.labels, s.scores, positive);
    if (pts.length === 0) return;
    const path = [`M ${ox} ${oy + h - pts[0]!.precision * h}`, ...pts.map((p) => `L ${(ox + p.recall * w).toFixed(1)} ${(oy + h - p.precision * h).toFixed(1)}`)].join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${colours[positive]}" stroke-width="2"/>`);
    const ap = positive === 1 ? s.metrics.averagePrecision.no_mask : s.metrics.averagePrecision.mask;
    parts.push(`<text x="${ox + w + 8}" y="${oy + 14 + k * 16}" font-size="11" fill="${colours[positive]}">${positive === 1 ? 'no_mask' : 'mask'} AP ${f3(ap)}</text>`);
  });
  return parts.join('');
}

/** Confusion matrix + PR curves (both classes as positive), one row per evaluated set. */
export function evaluationSvg(sets: EvaluatedSet[], title: string): string {
  const height = 40 + sets.length * ROW_H;
  const rows = sets.map((s, i) => {
    const y = 40 + i * ROW_H;
    const m = s.metrics;
    return [
      `<text x="12" y="${y + 4}" font-size="14" font-weight="bold">${esc(s.title)}</text>`,
      `<text x="12" y="${y + 22}" font-size="11" fill="#444">n=${m.n} · acc ${pct(m.accuracy)} · bal. acc ${pct(m.balancedAccuracy)} · ROC-AUC ${f3(m.rocAuc)}</text>`,
      confusionSvg(s, 0, y + 30),
      prSvg(s, 330, y + 30),
      `<line x1="0" y1="${y + ROW_H - 12}" x2="${WIDTH}" y2="${y + ROW_H - 12}" stroke="#ddd"/>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="12" y="24" font-size="16" font-weight="bold">${esc(title)}</text>
${rows.join('\n')}
</svg>`;
}

export async function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}

export interface ReportInput {
  generatedAt: string;
  head: { path: string; backbone: string; framing: unknown; trainedOn: string[] };
  sets: EvaluatedSet[];
  incorrectlyWorn: { n: number; predictedMask: number; predictedMaskRate: number; policy: string };
  leakage: Array<{ split: string; trainSize: number; testSize: number; seedTestAccuracy: number; kaggleBalancedAccuracy: number; kaggleAccuracy: number }>;
  /** evaluateScenes() result, or null when skipped. */
  scenes: unknown;
  targets: Array<{ name: string; target: number; value: number | null }>;
}

function scenesMarkdown(scenes: unknown): string {
  if (!scenes || typeof scenes !== 'object') return '_Skipped (run without `--skip-scenes`)._\n';
  const s = scenes as Record<string, unknown>;
  const lines = ['| figure | value |', '|---|---|'];
  for (const key of ['images', 'min_side', 'face_recall_masked', 'face_recall_unmasked', 'classification_balanced_accuracy', 'violation_precision', 'violation_recall', 'violation_f1', 'false_faces', 'ms_per_image']) {
    if (key in s) lines.push(`| ${key} | ${String(s[key])} |`);
  }
  const by = s.face_recall_by_size as Record<string, Record<string, { gt: number; hit: number; recall: number }>> | undefined;
  if (by) {
    const buckets = Object.keys(Object.values(by)[0] ?? {});
    lines.push('', `| face recall by size | ${buckets.join(' | ')} |`, `|---|${buckets.map(() => '---').join('|')}|`);
    for (const [label, row] of Object.entries(by)) {
      lines.push(`| ${label} | ${buckets.map((b) => `${row[b]!.recall.toFixed(3)} (${row[b]!.hit}/${row[b]!.gt})`).join(' | ')} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function evaluationMarkdown(r: ReportInput): string {
  const out: string[] = [
    '# MaskWatch — evaluation report',
    '',
    `Generated ${r.generatedAt} by \`npx maskwatch evaluate\` (figures in \`evaluation.json\`, plot in \`evaluation.png\`).`,
    '',
    `Classifier: frozen ${r.head.backbone} features → trained head \`${r.head.path}\`. Trained on: ${r.head.trainedOn.join(', ')}. Framing: \`${JSON.stringify(r.head.framing)}\`.`,
    'Every figure below comes from images the head never saw in training; hyper-parameters were chosen on the validation splits.',
    'Reproduce: `npx maskwatch train` (seeded; features cached in `.cache/`), then `npx maskwatch evaluate`.',
    '',
    '## Targets',
    '',
    '| target | required | measured | |',
    '|---|---|---|---|',
    ...r.targets.map((t) => `| ${t.name} | ≥ ${t.target} | ${t.value === null ? 'n/a' : t.value.toFixed(4)} | ${t.value !== null && t.value >= t.target ? 'met' : 'NOT met'} |`),
    '',
    '## Classification (label threshold P(no mask) ≥ 0.5)',
    '',
    ...r.sets.map(setMarkdown),
    '### mask_weared_incorrect (kaggle-face-crops-dev)',
    '',
    `${r.incorrectlyWorn.policy}`,
    '',
    `${r.incorrectlyWorn.predictedMask} of ${r.incorrectlyWorn.n} predicted "mask" (${pct(r.incorrectlyWorn.predictedMaskRate)}).`,
    '',
    '## Why the split matters (seed set only, classic recipe)',
    '',
    'Two heads trained the same way on the seed set alone, differing only in how the seed set is split. The random split puts a photo and its pasted-mask / augmented copies on both sides.',
    '',
    '| split | train | test | seed test accuracy | kaggle crops accuracy | kaggle crops balanced accuracy |',
    '|---|---|---|---|---|---|',
    ...r.leakage.map((l) => `| ${l.split} | ${l.trainSize} | ${l.testSize} | ${pct(l.seedTestAccuracy)} | ${pct(l.kaggleAccuracy)} | ${pct(l.kaggleBalancedAccuracy)} |`),
    '',
    '## Detection + classification on kaggle-scenes-dev (evaluateScenes)',
    '',
    scenesMarkdown(r.scenes),
  ];
  return out.join('\n');
}
