/** Class-balanced cross-entropy (as weightedLoss in src/vision/train/mlp.ts) over labelled rows; unlabelled (null) rows are skipped. */
export function balancedLoss(rows: Array<{ p: number[]; y: number | null }>): number {
  const labelled = rows.filter((r) => r.y !== null);
  const mass = [0, 1, 2].map((c) => labelled.filter((r) => r.y === c).length);
  let loss = 0, total = 0;
  for (const r of labelled) {
    const w = labelled.length / (3 * mass[r.y!]!);
    loss -= w * Math.log(Math.max(1e-7, r.p[r.y!]!));
    total += w;
  }
  return +(loss / total).toFixed(4);
}
