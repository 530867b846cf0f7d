import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { REPO_ROOT } from '../../src/paths.ts';
import { choosingScenes, choosingSideOf, cropScene, parseSceneSplit, SCENE_SPLIT_FILE } from '../../src/vision/protocol/scene-split.ts';
import { reportScenes } from '../../src/vision/protocol/report-split.ts';

const SRC = path.join(REPO_ROOT, 'src');
const REPORT_SPLIT = path.join(SRC, 'vision', 'protocol', 'report-split.ts');
const DATASETS = path.join(loadConfig().assetsDir, 'datasets');

/** Relative imports of a module: static `from '...'`, side-effect `import '...'` and dynamic `import('...')`. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => path.resolve(path.dirname(file), s));
}

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const dep of importsOf(f)) stack.push(dep);
  }
  return seen;
}

function allSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? allSources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('nothing that chooses can reach the report split: train command, trainer, chooser, scene-face loader', () => {
  const choosers = ['cli/commands/train.ts', 'vision/train/scene-train.ts', 'vision/train/choose.ts', 'vision/train/scene-faces.ts', 'vision/train/mlp.ts'];
  for (const rel of choosers) {
    const graph = reachable(path.join(SRC, rel));
    // The walk really follows imports (the train command reaches the chooser), so the check below is not vacuous.
    if (rel === 'cli/commands/train.ts') assert.ok(graph.has(path.join(SRC, 'vision/train/choose.ts')), 'import walk reaches the chooser');
    assert.ok(!graph.has(REPORT_SPLIT), `${rel} reaches report-split.ts`);
  }
});

test('the choosing scripts (tail fine-tune, refit, val studies) cannot reach the report split either', () => {
  const scripts = [...readdirSync(path.join(REPO_ROOT, 'scripts', 'tail-finetune')).filter((f) => f.endsWith('.ts')).map((f) => path.join('tail-finetune', f)), ...readdirSync(path.join(REPO_ROOT, 'scripts')).filter((f) => f.endsWith('-val.ts'))];
  assert.ok(scripts.includes(path.join('tail-finetune', 'refit.ts')), 'the refit script is among them');
  for (const rel of scripts) assert.ok(!reachable(path.join(REPO_ROOT, 'scripts', rel)).has(REPORT_SPLIT), `scripts/${rel} reaches report-split.ts`);
});

test('a head refit on the val scenes cannot be re-chosen on them (its rule is chosen out-of-fold)', async () => {
  const { rechoose } = await import('../../src/vision/train/scene-train.ts');
  const refit = { training: { refit: { scenes: 298, folds: 5 } } } as unknown as Parameters<typeof rechoose>[1];
  await assert.rejects(rechoose({} as Parameters<typeof rechoose>[0], refit, 'models/mask-head.json'), /refit on the val scenes.*out-of-fold/);
});

test('only the report step imports report-split.ts', () => {
  const importers = allSources(SRC)
    .filter((f) => importsOf(f).includes(REPORT_SPLIT))
    .map((f) => path.relative(SRC, f));
  assert.deepEqual(importers, ['vision/protocol/report-run.ts']);
  // …and the report step is reached from `maskwatch evaluate`, not from `maskwatch train`.
  assert.ok(reachable(path.join(SRC, 'cli/commands/evaluate.ts')).has(REPORT_SPLIT));
});

test('the split covers every dev scene once, by image; choosing code never sees a report scene', () => {
  const manifest = parseSceneSplit(readFileSync(SCENE_SPLIT_FILE, 'utf8'));
  const annotations = readdirSync(path.join(DATASETS, 'kaggle-scenes-dev', 'annotations'), { withFileTypes: true })
    .filter((d) => d.name.endsWith('.xml'))
    .map((d) => d.name.slice(0, -4));
  assert.deepEqual(Object.keys(manifest.sides).sort(), annotations.sort());
  const { train, val } = choosingScenes();
  const report = reportScenes();
  const all = [...train, ...val, ...report];
  assert.equal(new Set(all).size, all.length, 'no scene on two sides');
  assert.equal(all.length, annotations.length);
  // Roughly the documented fractions, and the rare cases on every side.
  assert.ok(report.length >= 0.25 * all.length && val.length >= 0.2 * all.length && train.length >= 0.4 * all.length);
  for (const stem of report) assert.equal(choosingSideOf(stem), 'hidden');
  assert.ok(!train.some((s) => report.includes(s)) && !val.some((s) => report.includes(s)));
});

test('face crops follow their scene', () => {
  assert.equal(cropScene('maksssksksss12_3.jpg'), 'maksssksksss12');
  assert.equal(cropScene('maksssksksss7.jpg'), 'maksssksksss7');
  assert.throws(() => cropScene('noext'), /not a face crop/);
  const crops = readdirSync(path.join(DATASETS, 'kaggle-face-crops-dev', 'without_mask'));
  const sides = parseSceneSplit(readFileSync(SCENE_SPLIT_FILE, 'utf8')).sides;
  for (const c of crops) assert.ok(sides[cropScene(c)], `${c} belongs to a dev scene`);
});
