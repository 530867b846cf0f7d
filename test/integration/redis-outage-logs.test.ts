/**
 * Redis away: BullMQ workers and queues report every reconnect attempt (1–2 a
 * second each). The worker's and the escalation queue's error lines go through
 * the producer's limiter (system/logger.ts onceEvery): one line, then at most one
 * every 10 s, with the number of dropped ones, instead of a flood.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { createQueueWorker } from '../../src/queue/worker.ts';
import { createEscalationScheduler } from '../../src/queue/handlers/escalation.ts';
import { onceEvery } from '../../src/system/logger.ts';
import { freePort } from '../helpers/redis-server.ts';
import { uniquePrefix } from '../helpers/env.ts';

function capturingLogger() {
  const lines: { msg: string; suppressed?: number }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { msg: string });
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const count = (lines: { msg: string }[], msg: string) => lines.filter((l) => l.msg === msg).length;

describe('logs while Redis is unreachable', () => {
  it('a queue worker and the escalation queue log one error line, not one per reconnect attempt', async () => {
    const port = await freePort(); // nothing listens there
    const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null, connectTimeout: 500 };
    const { logger, lines } = capturingLogger();
    const prefix = uniquePrefix('outage-logs');
    const worker = createQueueWorker({ connection, prefix, logger, handlers: { 'frame.analyze': async () => ({ ok: true }) } });
    const scheduler = createEscalationScheduler({ connection, prefix, policy: { dispatchSeconds: 3600, ackSeconds: 3600, maxLevel: 1 }, logger });
    try {
      await new Promise((r) => setTimeout(r, 4000));
      assert.equal(count(lines, 'worker error'), 1, JSON.stringify(lines.map((l) => l.msg)));
      assert.equal(count(lines, 'escalation queue error'), 1, JSON.stringify(lines.map((l) => l.msg)));
    } finally {
      await Promise.race([Promise.allSettled([worker.close(true), scheduler.close()]), new Promise((r) => setTimeout(r, 3000))]);
    }
  });

  it('the limiter lets one line through every interval and counts the dropped ones', () => {
    let t = 0;
    const logged: number[] = [];
    const log = onceEvery((_err, suppressed) => logged.push(suppressed), 10_000, () => t);
    for (t = 0; t < 25_000; t += 500) log(new Error('ECONNREFUSED'));
    assert.deepEqual(logged, [0, 19, 19]);
  });
});
