import { mulberry32, shuffled } from './rng.ts';

export type Split = 'train' | 'val' | 'test';

export class UnionFind {
  private readonly parent: number[];
  constructor(n: number) {
    this.parent = Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r]!;
    // Path compression keeps later finds O(α).
    while (this.parent[i] !== r) {
      const next = this.parent[i]!;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/**
 * Source-photo key of a seed (prajna) file name, or null when the name alone
 * cannot tell (the `augmented_image_N` variants: their N does not match the
 * photo they were made from, so they are attached by visual similarity).
 *  - `N.jpg` (without_mask) and `N-with-mask.jpg` (with_mask, a mask pasted on
 *    the same photo) → `photo:N`
 *  - `prajna.jpg`, `praN.jpg` → `person:prajna` (the author's own photos)
 */
export function seedSourceKey(file: string): string | null {
  let m = /^(\d+)(?:-with-mask)?\.jpe?g$/i.exec(file);
  if (m) return `photo:${Number(m[1])}`;
  if (/^augmented_image_\d+\.jpe?g$/i.test(file)) return null;
  m = /^pra(jna|\d+)\.jpe?g$/i.exec(file);
  if (m) return 'person:prajna';
  return `file:${file}`;
}

function normalised(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  const inv = 1 / (Math.sqrt(n) || 1);
  return v.map((x) => x * inv);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export interface GroupingInput {
  /** Name-derived key per item, or null (attach by similarity). */
  keys: Array<string | null>;
  /**
   * One or more embeddings per item (views: e.g. whole-photo and face-crop
   * features). Edges found in ANY view join groups: pasted masks make face
   * crops look alike, while backgrounds and clothes tell photos apart.
   */
  views: Float32Array[][];
  /** Pairs at or above this cosine similarity are the same source (near-duplicates). */
  nearDuplicate: number;
}

export interface Grouping {
  /** Group id per item (dense, 0..groups-1). */
  group: number[];
  groups: number;
  /** Items without a name key, and the similarity to the item they were attached to (one entry per view). */
  attached: Array<{ index: number; to: number; similarity: number }>;
}

/**
 * Groups items that must stay on one side of a split: same name key, near-
 * duplicate content, and each key-less item with its most similar keyed item.
 * Over-grouping is safe (a coarser split); under-grouping leaks.
 */
export function groupSources(input: GroupingInput): Grouping {
  const { keys, views, nearDuplicate } = input;
  const n = keys.length;
  if (views.length === 0) throw new Error('no feature views given');
  for (const v of views) if (v.length !== n) throw new Error(`${n} keys but ${v.length} feature vectors`);
  const uf = new UnionFind(n);
  const firstByKey = new Map<string, number>();
  keys.forEach((k, i) => {
    if (k === null) return;
    const first = firstByKey.get(k);
    if (first === undefined) firstByKey.set(k, i);
    else uf.union(first, i);
  });
  const attached: Grouping['attached'] = [];
  for (const features of views) {
    const unit = features.map(normalised);
    for (let i = 0; i < n; i++) {
      const keyless = keys[i] === null;
      let best = -1;
      let bestSim = -Infinity;
      // Key-less items scan everything (nearest keyed item); others only need j > i for near-duplicates.
      for (let j = keyless ? 0 : i + 1; j < n; j++) {
        if (j === i) continue;
        const sim = dot(unit[i]!, unit[j]!);
        if (sim >= nearDuplicate && j > i) uf.union(i, j);
        if (keyless && keys[j] !== null && sim > bestSim) {
          bestSim = sim;
          best = j;
        }
      }
      if (keyless && best >= 0) {
        uf.union(i, best);
        attached.push({ index: i, to: best, similarity: bestSim });
      }
    }
  }
  const dense = new Map<number, number>();
  const group = Array.from({ length: n }, (_, i) => {
    const r = uf.find(i);
    let g = dense.get(r);
    if (g === undefined) {
      g = dense.size;
      dense.set(r, g);
    }
    return g;
  });
  return { group, groups: dense.size, attached };
}

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

/**
 * Assigns whole groups to train/val/test in a seeded random order until each
 * side holds its fraction of ITEMS. Every member of a group lands on one side.
 */
export function splitByGroup(group: number[], fractions: SplitFractions, seed: number): Split[] {
  const total = fractions.train + fractions.val + fractions.test;
  if (!(total > 0) || [fractions.train, fractions.val, fractions.test].some((f) => !(f >= 0))) {
    throw new Error(`invalid split fractions ${JSON.stringify(fractions)}`);
  }
  const sizes = new Map<number, number>();
  for (const g of group) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  const order = shuffled([...sizes.keys()].sort((a, b) => a - b), mulberry32(seed));
  const n = group.length;
  const trainEnd = (fractions.train / total) * n;
  const valEnd = ((fractions.train + fractions.val) / total) * n;
  const side = new Map<number, Split>();
  let filled = 0;
  for (const g of order) {
    // Place the group where its middle falls, so sides end up near their targets.
    const mid = filled + sizes.get(g)! / 2;
    side.set(g, mid <= trainEnd ? 'train' : mid <= valEnd ? 'val' : 'test');
    filled += sizes.get(g)!;
  }
  return group.map((g) => side.get(g)!);
}

/** Plain per-item random split (the leaky classic recipe; also for sets without group structure). */
export function splitRandom(n: number, fractions: SplitFractions, seed: number): Split[] {
  return splitByGroup(Array.from({ length: n }, (_, i) => i), fractions, seed);
}
