import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AssetError, parseManifest, resolveAsset } from '../../src/vision/assets.ts';
import { fetchModel } from '../../src/cli/commands/models-fetch.ts';

const content = Buffer.from('pretend onnx weights');
const sha = createHash('sha256').update(content).digest('hex');
const entry = { name: 'tiny', path: 'models/tiny/tiny.onnx', url: 'https://example.invalid/tiny.onnx', bytes: content.length, sha256: sha, license: 'MIT', usedBy: 'tests' };

async function fixture() {
  const root = await mkdtemp(path.join(tmpdir(), 'mw-assets-'));
  const assets = path.join(root, 'assets');
  await mkdir(path.join(assets, 'models/tiny'), { recursive: true });
  await writeFile(path.join(assets, entry.path), content);
  const manifestPath = path.join(root, 'manifest.json');
  await writeFile(manifestPath, JSON.stringify({ models: [entry, { ...entry, name: 'bad', path: 'models/tiny/bad.onnx' }, { ...entry, name: 'absent', path: 'models/none.onnx' }] }));
  await writeFile(path.join(assets, 'models/tiny/bad.onnx'), 'tampered');
  return { root, assets, manifestPath, cacheDir: path.join(root, 'cache') };
}

test('resolveAsset returns the verified path, rejects a wrong hash and explains a missing file', async (t) => {
  const f = await fixture();
  t.after(() => rm(f.root, { recursive: true, force: true }));
  const opts = { manifestPath: f.manifestPath, cacheDir: f.cacheDir };
  assert.equal(await resolveAsset(f.assets, 'tiny', opts), path.join(f.assets, entry.path));
  await assert.rejects(resolveAsset(f.assets, 'bad', opts), (e: Error) => e instanceof AssetError && /sha256/.test(e.message));
  await assert.rejects(resolveAsset(f.assets, 'absent', opts), (e: Error) => /MASKWATCH_ASSETS/.test(e.message) && /models:fetch/.test(e.message));
  await assert.rejects(resolveAsset(f.assets, 'nope', opts), /unknown model "nope"/);
});

test('resolveAsset falls back to the models:fetch cache', async (t) => {
  const f = await fixture();
  t.after(() => rm(f.root, { recursive: true, force: true }));
  await mkdir(path.join(f.cacheDir, 'models/tiny'), { recursive: true });
  await writeFile(path.join(f.cacheDir, entry.path), content);
  const empty = path.join(f.root, 'no-assets');
  assert.equal(await resolveAsset(empty, 'tiny', { manifestPath: f.manifestPath, cacheDir: f.cacheDir }), path.join(f.cacheDir, entry.path));
});

test('fetchModel copies from the assets folder, verifies, then reports it cached', async (t) => {
  const f = await fixture();
  t.after(() => rm(f.root, { recursive: true, force: true }));
  const msgs: string[] = [];
  const opts = { assetsDir: f.assets, cacheDir: f.cacheDir, offline: true, progress: (m: string) => msgs.push(m) };
  assert.equal(await fetchModel(entry, opts), 'copied');
  assert.deepEqual(await readFile(path.join(f.cacheDir, entry.path)), content);
  assert.equal(await fetchModel(entry, opts), 'cached');
  assert.ok(msgs.some((m) => m.includes('copying')));
  // a tampered source is refused and leaves nothing behind
  const bad = { ...entry, name: 'bad', path: 'models/tiny/bad.onnx' };
  await assert.rejects(fetchModel(bad, opts), /sha256/);
  await assert.rejects(readFile(path.join(f.cacheDir, bad.path)), { code: 'ENOENT' });
  // offline with no local copy: clear error, no download attempted
  await assert.rejects(fetchModel({ ...entry, path: 'models/none.onnx' }, opts), /--offline/);
});

test('parseManifest rejects malformed entries', () => {
  assert.throws(() => parseManifest('{'), /not valid JSON/);
  assert.throws(() => parseManifest('{"models":{}}'), /must be an array/);
  assert.throws(() => parseManifest(JSON.stringify({ models: [{ ...entry, sha256: 'abc' }] })), /sha256/);
  assert.throws(() => parseManifest(JSON.stringify({ models: [{ ...entry, path: '../escape.onnx' }] })), /inside the assets folder/);
});
