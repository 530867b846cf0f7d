import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupSources, seedSourceKey, splitByGroup, splitRandom, UnionFind } from '../../src/vision/train/group-split.ts';
import { dedupeByContent, type HashedSample } from '../../src/vision/train/dedupe.ts';
import { mulberry32 } from '../../src/vision/train/rng.ts';

test('seed file names map to their source photo', () => {
  assert.equal(seedSourceKey('12.jpg'), 'photo:12');
  assert.equal(seedSourceKey('12-with-mask.jpg'), 'photo:12');
  assert.equal(seedSourceKey('012-with-mask.jpg'), 'photo:12');
  assert.equal(seedSourceKey('augmented_image_12.jpg'), null);
  assert.equal(seedSourceKey('prajna.jpg'), 'person:prajna');
  assert.equal(seedSourceKey('pra3.jpg'), 'person:prajna');
  assert.equal(seedSourceKey('other.jpg'), 'file:other.jpg');
});

test('union-find joins transitively', () => {
  const uf = new UnionFind(5);
  uf.union(0, 3);
  uf.union(3, 4);
  assert.equal(uf.find(4), uf.find(0));
  assert.notEqual(uf.find(1), uf.find(0));
});

/** A synthetic seed set: photo N has a plain and a masked file; augmented files are noisy copies of some photo. */
function syntheticSeed(photos: number, augmented: number, seed: number) {
  const rng = mulberry32(seed);
  const base = Array.from({ length: photos }, () => Float32Array.from({ length: 32 }, () => rng()));
  const files: string[] = [];
  const features: Float32Array[] = [];
  const truth: number[] = [];
  for (let n = 0; n < photos; n++) {
    files.push(`${n}.jpg`, `${n}-with-mask.jpg`);
    features.push(base[n]!, base[n]!.map((v, i) => (i < 8 ? v * 0.5 : v)));
    truth.push(n, n);
  }
  for (let a = 0; a < augmented; a++) {
    const src = Math.floor(rng() * photos);
    files.push(`augmented_image_${a}.jpg`); // index deliberately unrelated to src
    features.push(base[src]!.map((v) => v + (rng() - 0.5) * 0.05));
    truth.push(src);
  }
  return { files, features, truth };
}

test('group split never puts one source photo on two sides', () => {
  const { files, features, truth } = syntheticSeed(60, 40, 5);
  const g = groupSources({ keys: files.map(seedSourceKey), views: [features], nearDuplicate: 0.999 });
  assert.equal(g.attached.length, 40, 'every augmented file attached to a photo');
  for (const a of g.attached) assert.equal(truth[a.to], truth[a.index], `augmented file ${files[a.index]} attached to its own source`);
  const split = splitByGroup(g.group, { train: 0.7, val: 0.15, test: 0.15 }, 9);
  const sideOfSource = new Map<number, string>();
  truth.forEach((src, i) => {
    const prev = sideOfSource.get(src);
    if (prev) assert.equal(split[i], prev, `source ${src} (${files[i]}) split across ${prev} and ${split[i]}`);
    sideOfSource.set(src, split[i]!);
  });
  const count = (s: string) => split.filter((x) => x === s).length;
  assert.ok(count('train') > 0.6 * files.length && count('train') < 0.8 * files.length, `train ${count('train')}`);
  assert.ok(count('val') > 0 && count('test') > 0);
  assert.deepEqual(splitByGroup(g.group, { train: 0.7, val: 0.15, test: 0.15 }, 9), split, 'same seed, same split');
  assert.notDeepEqual(splitByGroup(g.group, { train: 0.7, val: 0.15, test: 0.15 }, 10), split, 'other seed, other split');
});

test('a random per-file split does leak source photos (why the group split exists)', () => {
  const { files, truth } = syntheticSeed(60, 40, 5);
  const split = splitRandom(files.length, { train: 0.8, val: 0, test: 0.2 }, 1);
  const sides = new Map<number, Set<string>>();
  truth.forEach((src, i) => (sides.get(src) ?? sides.set(src, new Set()).get(src)!).add(split[i]!));
  assert.ok([...sides.values()].some((s) => s.size > 1));
});

test('near-duplicates are grouped even with different name keys', () => {
  const v = Float32Array.of(1, 2, 3);
  const g = groupSources({ keys: ['file:a', 'file:b', 'file:c'], views: [[v, v.map((x) => x * 2), Float32Array.of(3, -2, 0)]], nearDuplicate: 0.99 });
  assert.equal(g.group[0], g.group[1]);
  assert.notEqual(g.group[0], g.group[2]);
  assert.equal(g.groups, 2);
});

test('an edge in any view joins groups (union over views)', () => {
  const a = Float32Array.of(1, 0);
  const b = Float32Array.of(0, 1);
  // View 1 says the augmented file looks like photo 1, view 2 like photo 2: it joins both.
  const g = groupSources({ keys: ['photo:1', 'photo:2', null], views: [[a, b, a], [a, b, b]], nearDuplicate: 0.999 });
  assert.equal(g.groups, 1);
  assert.equal(g.attached.length, 2);
  assert.throws(() => groupSources({ keys: ['x'], views: [], nearDuplicate: 0.9 }), /no feature views/);
});

test('bad split fractions are refused', () => {
  assert.throws(() => splitByGroup([0, 1], { train: -1, val: 0, test: 1 }, 1), /invalid split fractions/);
  assert.throws(() => splitByGroup([0, 1], { train: 0, val: 0, test: 0 }, 1), /invalid split fractions/);
});

function hs(dataset: string, folder: string, file: string, label: 0 | 1, md5: string): HashedSample {
  return { path: `/x/${dataset}/${folder}/${file}`, dataset, folder, file, label, md5 };
}

test('dedupe keeps the first copy, drops same-label copies and every copy with conflicting labels', () => {
  const items = [
    hs('prajna', 'with_mask', 'a.jpg', 0, 'h1'),
    hs('prajna', 'with_mask', 'b.jpg', 0, 'h1'), // within-class duplicate
    hs('prajna', 'without_mask', 'c.jpg', 1, 'h2'),
    hs('chandrikadeb7', 'without_mask', 'd.jpg', 1, 'h2'), // cross-dataset duplicate
    hs('prajna', 'with_mask', 'e.jpg', 0, 'h3'),
    hs('prajna', 'without_mask', 'f.jpg', 1, 'h3'), // same bytes, both labels
    hs('prajna', 'without_mask', 'g.jpg', 1, 'h4'),
  ];
  const { kept, report } = dedupeByContent(items);
  assert.deepEqual(kept.map((k) => k.file), ['a.jpg', 'c.jpg', 'g.jpg']);
  assert.equal(report.input, 7);
  assert.equal(report.kept, 3);
  assert.equal(report.duplicatesWithinClass, 2);
  assert.equal(report.crossDataset, 1);
  assert.equal(report.labelConflicts, 2);
  assert.deepEqual(report.removed.sort(), ['chandrikadeb7/without_mask/d.jpg', 'prajna/with_mask/b.jpg', 'prajna/with_mask/e.jpg', 'prajna/without_mask/f.jpg']);
  assert.equal(new Set(kept.map((k) => k.md5)).size, kept.length, 'no content twice');
});
