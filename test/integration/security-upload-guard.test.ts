/**
 * Uploads checked before the body is read (issue 13, item 5), over raw
 * sockets, curl and Node's fetch against the real app:
 * - a bogus key, a wrong type or a declared oversize is answered from the
 *   headers alone, without `100 Continue` and without waiting for the body;
 * - a valid upload that asked for `100 Continue` gets it and is accepted;
 * - an oversized body sent without waiting (fetch) still gets a readable 413;
 * - the camera agent drops a frame refused with 413 (counted, not retried).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { tempDir, testLogger } from '../helpers/env.ts';
import { postFrame } from '../../src/agent/upload.ts';
import { createCameraAgent } from '../../src/agent/camera-agent.ts';
import { openSpool } from '../../src/agent/spool.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const JPEG = await readFile(path.resolve(process.cwd(), '..', 'shared', 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
const MB = 1024 * 1024;

/** What the server writes back on a raw connection, until `until` matches or the deadline. */
function rawExchange(
  url: string,
  head: string,
  opts: { until: RegExp; timeoutMs?: number; onData?: (text: string, socket: net.Socket) => void },
): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer matching ${opts.until} within ${opts.timeoutMs ?? 5000} ms; got ${JSON.stringify(text.slice(0, 300))}`));
    }, opts.timeoutMs ?? 5000);
    socket.on('data', (d) => {
      text += d.toString('latin1');
      opts.onData?.(text, socket);
      if (opts.until.test(text)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(head);
  });
}

const frameHead = (key: string, length: number, extra = '', type = 'image/jpeg') =>
  `POST /api/v1/frames HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n${extra}\r\n`;
const FINAL = /HTTP\/1\.1 [2-5]\d\d [^\r]*\r\n[\s\S]*?\r\n\r\n[\s\S]*\}/;

describe('uploads checked before the body is read', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let key: string;

  before(async () => {
    stack = await createTestStack('sqlite', { MASKWATCH_MAX_FRAME_BYTES: String(2 * MB) });
    api = await stack.startApi();
    const admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
    key = (await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'gate', latitude: 1, longitude: 1 } })).body.apiKey;
  });
  after(() => stack?.close());

  test('refusals come from the headers alone, with Expect: 100-continue never answered 100', async () => {
    const cases: Array<[string, string, number]> = [
      ['bogus key', frameHead('mwc_bogus', 5 * MB, 'Expect: 100-continue\r\n'), 401],
      ['no key', frameHead('', 5 * MB, 'Expect: 100-continue\r\n').replace('Authorization: Bearer \r\n', ''), 401],
      ['declared oversize', frameHead(key, 5 * MB, 'Expect: 100-continue\r\n'), 413],
      ['wrong type', frameHead(key, 1000, 'Expect: 100-continue\r\n', 'text/plain'), 415],
    ];
    for (const [name, head, status] of cases) {
      const text = await rawExchange(api.url, head, { until: FINAL });
      assert.doesNotMatch(text, /100 Continue/, `${name}: no 100 Continue for a refused upload`);
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `), `${name}: ${text.slice(0, 200)}`);
      assert.match(text, /content-type: application\/problem\+json/i);
    }
  });

  test('without Expect: a bogus key is answered before any body byte is sent', async () => {
    const text = await rawExchange(api.url, frameHead('mwc_bogus', 5 * MB), { until: FINAL });
    assert.match(text, /^HTTP\/1\.1 401 /);
  });

  test('a valid upload asking for 100 Continue gets it, sends its body and is accepted', async () => {
    let sent = false;
    const text = await rawExchange(api.url, frameHead(key, JPEG.length, 'Expect: 100-continue\r\n'), {
      until: /HTTP\/1\.1 202[\s\S]*\}/,
      onData: (t, socket) => {
        if (!sent && /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(t)) {
          sent = true;
          socket.write(JPEG);
        }
      },
    });
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 202 /);
  });

  test('other routes still get 100 Continue once their own checks pass (login with Expect: 100-continue)', async () => {
    const body = JSON.stringify({ username: 'nobody-here', password: 'wrong-password-here' });
    let sent = false;
    const t0 = performance.now();
    let continueMs = Infinity;
    const text = await rawExchange(
      api.url,
      `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`,
      {
        until: FINAL,
        timeoutMs: 10_000,
        onData: (t, socket) => {
          if (!sent && /^HTTP\/1\.1 100 Continue\r\n\r\n/.test(t)) {
            sent = true;
            continueMs = performance.now() - t0;
            socket.write(body);
          }
        },
      },
    );
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 401 /);
    // curl sends its body anyway after waiting 1 s: the 100 must come well before that.
    assert.ok(continueMs < 900, `100 Continue after ${Math.round(continueMs)} ms`);
  });

  test('curl (Expect: 100-continue) gets a readable 413 for an oversized frame, and its 202 for a good one', async () => {
    const tmp = await tempDir('upload-guard');
    try {
      const big = path.join(tmp.dir, 'big.jpg');
      await writeFile(big, Buffer.concat([JPEG, Buffer.alloc(12 * MB)]));
      const good = path.join(tmp.dir, 'good.jpg');
      await writeFile(good, JPEG);
      const curl = (file: string) =>
        promisify(execFile)('curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${key}`, '-H', 'Content-Type: image/jpeg', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `${api.url}/api/v1/frames`], { timeout: 15_000 });
      const refused = await curl(big);
      assert.match(refused.stdout, /"status":413[\s\S]*\n413$/, refused.stdout + refused.stderr);
      const accepted = await curl(good);
      assert.match(accepted.stdout, /\n202$/);
    } finally {
      await tmp.cleanup();
    }
  });

  test("Node's fetch sending an oversized body at once gets the 413, not EPIPE; the agent drops that frame", async () => {
    const image = Buffer.concat([JPEG, Buffer.alloc(12 * MB)]);
    const outcome = await postFrame({ server: api.url, apiKey: key, image, contentType: 'image/jpeg', capturedAt: new Date(), timeoutMs: 15_000 });
    assert.equal(outcome.kind, 'reject', JSON.stringify(outcome));
    assert.equal((outcome as { status: number }).status, 413);

    const tmp = await tempDir('agent-spool');
    try {
      const agent = createCameraAgent({ server: api.url, apiKey: key, spool: await openSpool(tmp.dir, 10), logger: testLogger(), statsIntervalMs: 0 });
      await agent.offer({ image, capturedAt: new Date() });
      await agent.offer({ image: JPEG, capturedAt: new Date() });
      const stats = agent.stats();
      assert.equal(stats.rejected, 1, JSON.stringify(stats));
      assert.equal(stats.sent, 1);
      assert.equal(stats.spoolSize, 0, 'the refused frame is not kept for a retry');
      assert.equal(stats.retried, 0);
      await agent.stop();
    } finally {
      await tmp.cleanup();
    }
  });
});
