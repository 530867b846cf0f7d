import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/config.ts';
import { loadManifest, resolveAsset, sha256File } from '../../src/vision/assets.ts';

const run = promisify(execFile);
const assets = loadConfig().assetsDir;
const repo = path.resolve(import.meta.dirname, '..', '..');

test('every model in models/manifest.json is present in the assets folder with the listed size and sha256', async () => {
  const entries = loadManifest();
  assert.ok(entries.some((e) => e.name === 'yunet-s-dynamic') && entries.some((e) => e.name === 'mobilenetv2-12-int8'));
  for (const e of entries) {
    const file = await resolveAsset(assets, e.name);
    assert.equal(file, path.join(assets, e.path));
    assert.equal((await stat(file)).size, e.bytes, e.name);
    assert.match(e.url, /^https:\/\//);
  }
});

test('models:fetch copies every model from MASKWATCH_ASSETS into the cache dir and verifies it', async () => {
  const cache = await mkdtemp(path.join(tmpdir(), 'mw-models-'));
  try {
    const { stderr } = await run(process.execPath, [path.join(repo, 'bin/maskwatch.js'), 'models:fetch', '--offline', '--cache-dir', cache], {
      cwd: repo,
      env: { ...process.env, MASKWATCH_ASSETS: assets },
    });
    const entries = loadManifest();
    for (const e of entries) assert.equal(await sha256File(path.join(cache, e.path)), e.sha256);
    assert.match(stderr, /all models verified/);
    assert.equal((stderr.match(/: copied, sha256 ok/g) ?? []).length, entries.length);
    // models resolve from the cache when the assets folder lacks them
    const empty = await mkdtemp(path.join(tmpdir(), 'mw-noassets-'));
    assert.equal(await resolveAsset(empty, 'yunet-s-dynamic', { cacheDir: cache }), path.join(cache, 'models/yunet/yunet_s_dynamic.onnx'));
    await rm(empty, { recursive: true, force: true });
  } finally {
    await rm(cache, { recursive: true, force: true });
  }
});
