/**
 * The agent's delivery rules over real HTTP: server unreachable → frames
 * spooled, the oldest dropped when full; 503/429 with Retry-After → the retry
 * waits at least that long; after recovery frames arrive in capture order.
 * The refusing server is a scripted node:http server: the real API cannot be
 * made to answer 429 on demand (its 503 path is covered by test/faults).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { createCameraAgent } from '../../src/agent/camera-agent.ts';
import { openSpool } from '../../src/agent/spool.ts';
import { freePort } from '../helpers/redis-server.ts';
import { UNMASKED } from '../faults/support.ts';

const dirs: string[] = [];
async function tmp() {
  const d = await mkdtemp(path.join(os.tmpdir(), 'agent-delivery-'));
  dirs.push(d);
  return d;
}
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** A pino logger whose records are kept for assertions. */
function recordingLogger() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      records.push(JSON.parse(chunk.toString()));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

describe('agent delivery', () => {
  it('server unreachable: spools, keeps the newest frames when full and counts the dropped', async () => {
    const { logger } = recordingLogger();
    const spool = await openSpool(await tmp(), 3);
    const agent = createCameraAgent({ server: `http://127.0.0.1:${await freePort()}`, apiKey: 'k', spool, logger, statsIntervalMs: 0, backoff: { baseMs: 60_000, maxMs: 60_000 } });
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    for (let i = 0; i < 6; i++) await agent.offer({ image: UNMASKED, capturedAt: new Date(t0 + i * 1000) });
    await agent.stop();
    assert.deepEqual(agent.stats(), { sent: 0, spooled: 6, dropped: 3, rejected: 0, retried: 0, skipped: 0, spoolSize: 3, inFlight: 0 });
    const reopened = await openSpool(spool.dir, 3);
    assert.deepEqual((await reopened.peek())!.entry.capturedAt, new Date(t0 + 3000), 'the oldest were dropped');
  });

  it('honours Retry-After on 503 and 429, then delivers in capture order', async () => {
    const script = [
      { status: 503, retryAfter: '1' },
      { status: 429, retryAfter: '1' },
    ];
    const received: string[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        const step = script.shift();
        if (step) {
          res.writeHead(step.status, { 'retry-after': step.retryAfter, 'content-type': 'application/json' }).end('{"detail":"busy"}');
          return;
        }
        received.push(String(req.headers['x-captured-at']));
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ frameId: `f${received.length}` }));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { logger, records } = recordingLogger();
      const agent = createCameraAgent({
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        apiKey: 'k',
        spool: await openSpool(await tmp(), 10),
        logger,
        statsIntervalMs: 0,
        backoff: { baseMs: 50, maxMs: 100 },
      });
      const t0 = Date.parse('2026-01-01T00:00:00Z');
      for (let i = 0; i < 4; i++) await agent.offer({ image: UNMASKED, capturedAt: new Date(t0 + i * 1000) });
      await agent.run((async function* () {})());
      assert.equal(received.length, 4);
      assert.deepEqual(received, [0, 1, 2, 3].map((i) => new Date(t0 + i * 1000).toISOString()), 'capture order');
      const waits = records.filter((r) => r.msg === 'server cannot take frames: spooling and retrying');
      assert.deepEqual(waits.map((w) => w.status), [503, 429]);
      for (const w of waits) assert.ok((w.retryInMs as number) >= 1000, `waited ${w.retryInMs} ms ≥ Retry-After`);
      const s = agent.stats();
      assert.equal(s.sent, 4);
      assert.equal(s.dropped, 0);
      assert.ok(s.retried >= 2);
    } finally {
      server.close();
    }
  });
});
