/**
 * Hostile-input corpus against the real app (real Redis with a unique prefix,
 * real SQLite): every request gets a clean 4xx problem+json — never a 5xx, never
 * a hang — and the process's memory stays bounded. Issue 6, item 1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { hostileRequests } from '../fixtures/hostile/corpus.ts';
import { rawRequest, streamLargeBody, type RawResponse } from '../fixtures/hostile/raw-http.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const JPEG = readFileSync(path.resolve(process.cwd(), '..', 'shared', 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
const MB = 1024 * 1024;

function assertCleanProblem(res: RawResponse, expect: number[] | undefined, label: string) {
  const ok = expect ? expect.includes(res.status) : res.status >= 400 && res.status < 500;
  assert.ok(ok, `${label}: got ${res.status} (expected ${expect?.join('/') ?? '4xx'}) ${res.body.slice(0, 300)}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json/, `${label}: content-type ${res.headers['content-type']}`);
  const body = JSON.parse(res.body);
  assert.equal(body.status, res.status, `${label}: problem.status`);
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.type, 'string');
  // No stack traces or internals in the answer.
  assert.doesNotMatch(res.body, /at \w+ \(|node_modules|\/work\/|prisma|SQLITE/i, `${label}: leaks internals`);
}

describe('hostile input corpus (sqlite, real Redis)', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let admin: string;
  let cameraKey: string;
  let cameraId: string;
  let slowBody: Promise<RawResponse>;
  let slowApi: ApiInstance;

  before(async () => {
    stack = await createTestStack('sqlite');
    api = await stack.startApi();
    admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
    const cam = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'gate', latitude: 52.5, longitude: 13.4 } });
    assert.equal(cam.status, 201);
    cameraKey = cam.body.apiKey;
    cameraId = cam.body.id;
    // A body shorter than its Content-Length keeps the server waiting for bytes that never come.
    // The API sweeps for such requests at a quarter of requestTimeout (Node's own sweep, every 30 s, would let this
    // one live 31 s): rawRequest's 15 s bound is ample. It runs alongside the other tests.
    slowApi = await stack.startApi({ config: { security: { ...stack.config.security, requestTimeoutMs: 1000 } } });
    slowBody = rawRequest(
      slowApi.url,
      {
        method: 'POST',
        path: '/api/v1/frames',
        headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'image/jpeg', 'content-length': '50000' },
        body: JPEG.subarray(0, 100),
      },
    );
    slowBody.catch(() => undefined); // awaited in its own test
  });
  after(() => stack?.close());

  test('every corpus request → clean 4xx problem+json, no 5xx, no hang; RSS stays bounded', async (t) => {
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const cases = hostileRequests({ jpeg: JPEG, cameraId });
    assert.ok(cases.length >= 80, `corpus has ${cases.length} cases`);
    const failures: string[] = [];
    for (const c of cases) {
      const headers: Record<string, string> = { ...c.headers };
      if (c.as === 'camera' && !headers.authorization) headers.authorization = `Bearer ${cameraKey}`;
      if (c.as === 'admin' && !headers.authorization) headers.authorization = `Bearer ${admin}`;
      try {
        const res = await rawRequest(api.url, { method: c.method, path: c.path, headers, body: c.body });
        assertCleanProblem(res, c.expect, c.name);
      } catch (err) {
        failures.push(`${c.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
    assert.deepEqual(failures, [], `\n${failures.join('\n')}`);
    // Nothing hostile was accepted: no frame file was stored, no camera or user was created.
    assert.equal(await stack.db.prisma.camera.count(), 1);
    assert.equal(await stack.db.prisma.user.count(), 1);
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    t.diagnostic(`${cases.length} cases; RSS ${Math.round(rssBefore / MB)} MB → +${Math.round(rssGrowth / MB)} MB`);
    assert.ok(rssGrowth < 300 * MB, `RSS grew by ${Math.round(rssGrowth / MB)} MB`);
  });

  test('a 100 MB frame body is refused with 413 without being buffered', async (t) => {
    const rssBefore = process.memoryUsage().rss;
    const res = await streamLargeBody(
      api.url,
      { method: 'POST', path: '/api/v1/frames', headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'image/jpeg' } },
      100 * MB,
    );
    assertCleanProblem(res, [413], 'chunked 100 MB');
    // The server answered once past its 8 MB limit, long before the 100 MB were sent.
    assert.ok(res.bytesSent < 100 * MB, `the whole body was sent (${res.bytesSent} bytes) before the answer`);
    const declared = await streamLargeBody(
      api.url,
      {
        method: 'POST',
        path: '/api/v1/frames',
        headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'image/jpeg', 'content-length': String(100 * MB) },
      },
      100 * MB,
    );
    assertCleanProblem(declared, [413], 'Content-Length: 100 MB');
    assert.ok(declared.bytesSent < 100 * MB);
    const growth = process.memoryUsage().rss - rssBefore;
    t.diagnostic(`sent ${Math.round(res.bytesSent / MB)} MB (chunked) and ${Math.round(declared.bytesSent / MB)} MB (declared) before 413; RSS +${Math.round(growth / MB)} MB`);
    assert.ok(growth < 100 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
  });

  test('a 100 MB JSON body is refused with 413', async () => {
    const res = await streamLargeBody(
      api.url,
      { method: 'POST', path: '/api/v1/cameras', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' } },
      100 * MB,
    );
    assertCleanProblem(res, [413], 'chunked 100 MB JSON');
    assert.ok(res.bytesSent < 100 * MB);
  });

  test('a body shorter than its Content-Length is answered 408 problem+json (requestTimeout), not left hanging', async () => {
    assertCleanProblem(await slowBody, [408], 'short body');
  });

  test('after the corpus the API still works: a real frame is accepted', async () => {
    const res = await rawRequest(api.url, {
      method: 'POST',
      path: '/api/v1/frames',
      headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'image/jpeg' },
      body: JPEG,
    });
    assert.equal(res.status, 202, res.body);
    assert.equal((await call(api.url, 'GET', '/healthz')).status, 200);
  });
});

describe('hostile frames reaching a worker (real vision engine)', () => {
  test('every hostile image body is rejected by the engine with an error — no crash, no hang, memory bounded', async (t) => {
    const { loadEngine } = await import('./worker-support.ts');
    const { testConfig, tempDir } = await import('../helpers/env.ts');
    const { pngBomb, animatedGif, seededBytes, SVG_WITH_SCRIPT } = await import('../fixtures/hostile/corpus.ts');
    const tmp = await tempDir('hostile-engine');
    const engine = await loadEngine(testConfig(tmp.dir));
    try {
      // Frames on disk can still be hostile: written by an older API, or a bad disk.
      const bodies: [string, Buffer][] = [
        ['zero bytes', Buffer.alloc(0)],
        ['random bytes behind a JPEG header', Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), seededBytes(3, 64 * 1024)])],
        ['truncated JPEG', JPEG.subarray(0, Math.floor(JPEG.length * 0.4))],
        ['PNG declaring 50000×50000', pngBomb()],
        ['PNG declaring 20000×20000 (under 2^31 bytes, over the pixel limit)', pngBomb(20_000, 20_000)],
        ['animated GIF', animatedGif()],
        ['SVG with script', SVG_WITH_SCRIPT],
      ];
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      for (const [name, body] of bodies) {
        await assert.rejects(engine.analyzeFrame(body), Error, name);
      }
      const growth = process.memoryUsage().rss - rssBefore;
      t.diagnostic(`RSS +${Math.round(growth / MB)} MB over ${bodies.length} hostile decodes`);
      assert.ok(growth < 200 * MB, `RSS grew by ${Math.round(growth / MB)} MB`);
      // And the engine still works afterwards.
      const ok = await engine.analyzeFrame(JPEG);
      assert.ok(ok.width > 0);
    } finally {
      await engine.close();
      await tmp.cleanup();
    }
  });
});
