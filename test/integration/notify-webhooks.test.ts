/**
 * Outbound webhooks (issue 4 item 5): real BullMQ on the local Redis, a real
 * HTTP receiver, the real delivery log (AuditEvent rows in SQLite).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Job, Worker } from 'bullmq';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { deleteRedisPrefix, uniquePrefix } from '../helpers/env.ts';
import { createAuditRepository } from '../../src/db/repositories/audit.ts';
import { createAlertPublisher } from '../../src/realtime/publisher.ts';
import type { AlertEvent } from '../../src/realtime/events.ts';
import { parseWebhookTargets, targetWants, verifySignature, WebhookConfigError } from '../../src/notify/webhook-core.ts';
import { createWebhookNotifier, createWebhookWorker, type WebhookJob } from '../../src/notify/webhooks.ts';
import { createAnnouncer, socketChannel, webhookChannel } from '../../src/services/announcer.ts';
import { withTimeout } from '../helpers/wait.ts';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let stack: TestStack;
let server: Server;
let base: string;
const received: Received[] = [];
const waiters: { n: number; resolve: () => void }[] = [];
let cadFailuresLeft = 2;

before(async () => {
  stack = await createTestStack('sqlite');
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      for (const w of waiters.filter((w) => received.length >= w.n)) w.resolve();
      if (req.url === '/cad' && cadFailuresLeft-- > 0) res.writeHead(503).end('busy');
      else if (req.url === '/strict') res.writeHead(400).end('bad');
      else res.writeHead(204).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.close();
  await stack.close();
});

const alert: AlertEvent = {
  id: 'alert-1',
  status: 'NEW',
  cameraId: 'cam-1',
  camera: { name: 'Gran Vía', latitude: 40.42, longitude: -3.7, address: null, zone: 'Centro' },
  createdAt: new Date().toISOString(),
  lastSeenAt: new Date().toISOString(),
  violationCount: 1,
  noMaskProbability: 0.98,
  maskProbability: 0.98,
  snapshotUrl: null,
  frameSnapshotUrl: null,
  assignedUnitId: null,
  escalationLevel: 0,
  people: [],
  resolutionOutcome: null,
  noteCount: 0,
};

test('target configuration is validated with clear messages', () => {
  assert.deepEqual(parseWebhookTargets(undefined), []);
  assert.throws(() => parseWebhookTargets('{'), WebhookConfigError);
  assert.throws(() => parseWebhookTargets('[{"name":"a","url":"http://example.org/x","secret":"0123456789abcdef"}]'), /https/);
  assert.throws(() => parseWebhookTargets('[{"name":"a","url":"https://example.org","secret":"short"}]'), /secret/);
  assert.throws(() => parseWebhookTargets('[{"name":"a","url":"https://example.org","secret":"0123456789abcdef","events":["x"]}]'), /events/);
  const [t] = parseWebhookTargets('[{"name":"a","url":"https://example.org/hook","secret":"0123456789abcdef"}]');
  assert.deepEqual(t!.events, ['alert.created', 'alert.updated']);
  assert.equal(t!.zones, undefined, 'every zone by default');
  for (const zones of ['[]', '"Centro"', '[""]', '[1]']) {
    assert.throws(() => parseWebhookTargets(`[{"name":"a","url":"https://example.org","secret":"0123456789abcdef","zones":${zones}}]`), /zones must be a non-empty list/, zones);
  }
  const [z] = parseWebhookTargets('[{"name":"a","url":"https://example.org","secret":"0123456789abcdef","zones":[" Centro ","Norte"]}]');
  assert.deepEqual(z!.zones, ['Centro', 'Norte']);
});

test("a target with zones takes its zones' alerts only, and hears once that a camera moved out of them", () => {
  const [every, centro] = parseWebhookTargets(
    JSON.stringify([
      { name: 'city', url: 'https://example.org/a', secret: '0123456789abcdef' },
      { name: 'centro', url: 'https://example.org/b', secret: '0123456789abcdef', zones: ['Centro'], events: ['alert.updated'] },
    ]),
  );
  const at = (zone: string | null) => ({ camera: { ...alert.camera, zone } });
  assert.equal(targetWants(every!, 'alert.created', at(null)), true);
  assert.equal(targetWants(centro!, 'alert.updated', at('Centro')), true);
  assert.equal(targetWants(centro!, 'alert.created', at('Centro')), false, 'events still apply');
  assert.equal(targetWants(centro!, 'alert.updated', at('Sur')), false);
  assert.equal(targetWants(centro!, 'alert.updated', at(null)), false, 'a camera without a zone is in none');
  assert.equal(targetWants(centro!, 'alert.updated', at('Sur'), 'Centro'), true, 'moved from Centro to Sur');
});

test('signed deliveries, retried with backoff on 5xx, not retried on 4xx, each attempt logged', { timeout: 60_000 }, async () => {
  const prefix = uniquePrefix('webhooks');
  const connection = { host: '127.0.0.1', port: 6379 };
  const secret = 'a-long-shared-secret-for-the-cad';
  const targets = parseWebhookTargets(
    JSON.stringify([
      { name: 'cad', url: `${base}/cad`, secret },
      { name: 'strict', url: `${base}/strict`, secret: 'another-secret-0123', events: ['alert.created'] },
      { name: 'updates-only', url: `${base}/updates`, secret: 'another-secret-4567', events: ['alert.updated'] },
    ]),
  );
  const notifier = createWebhookNotifier({ connection, prefix, targets, logger: stack.logger, backoffMs: 20, attempts: 5 });
  const worker: Worker<WebhookJob> = createWebhookWorker({ connection, prefix, targets, audit: createAuditRepository(stack.db.prisma), logger: stack.logger });
  const redis = new Redis('redis://127.0.0.1:6379');
  try {
    const settled: { job: Job<WebhookJob>; ok: boolean }[] = [];
    const allSettled = new Promise<void>((resolve) => {
      const check = () => settled.length === 2 && resolve();
      worker.on('completed', (job) => {
        settled.push({ job, ok: true });
        check();
      });
      worker.on('failed', (job, err) => {
        if (job && (job.attemptsMade >= (job.opts.attempts ?? 1) || err.name === 'UnrecoverableError')) {
          settled.push({ job, ok: false });
          check();
        }
      });
    });
    // Through the announcer, as the worker / API use it.
    const announcer = createAnnouncer({ channels: [socketChannel(createAlertPublisher({ redis, queuePrefix: prefix, logger: stack.logger })), webhookChannel(notifier)], logger: stack.logger });
    await announcer.announce({ kind: 'created', alert });
    await withTimeout(allSettled, 'both webhook deliveries to settle (completed or finally failed)');

    const outcome = Object.fromEntries(settled.map((s) => [s.job.data.target, s.ok]));
    assert.deepEqual(outcome, { cad: true, strict: false });
    // "updates-only" is not subscribed to alert.created.
    assert.ok(!received.some((r) => r.path === '/updates'));
    const cad = received.filter((r) => r.path === '/cad');
    assert.equal(cad.length, 3, 'two 503s then success');
    assert.deepEqual(cad.map((r) => r.headers['x-maskwatch-attempt']), ['1', '2', '3']);
    assert.equal(new Set(cad.map((r) => r.headers['x-maskwatch-delivery'])).size, 1, 'same delivery id on retries');
    for (const r of cad) {
      assert.ok(verifySignature(secret, r.headers['x-maskwatch-signature'] as string, r.headers['x-maskwatch-timestamp'] as string, r.body, Date.now() / 1000));
      assert.ok(!verifySignature('wrong-secret-wrong-secret', r.headers['x-maskwatch-signature'] as string, r.headers['x-maskwatch-timestamp'] as string, r.body, Date.now() / 1000));
      assert.ok(!verifySignature(secret, r.headers['x-maskwatch-signature'] as string, r.headers['x-maskwatch-timestamp'] as string, r.body.replace('Gran', 'Grand'), Date.now() / 1000));
      const body = JSON.parse(r.body);
      assert.equal(body.event, 'alert.created');
      assert.equal(body.alert.id, 'alert-1');
    }
    assert.equal(received.filter((r) => r.path === '/strict').length, 1, 'a 400 is not retried');

    const log = await stack.db.prisma.auditEvent.findMany({ where: { subjectType: 'Alert', subjectId: 'alert-1' }, orderBy: { at: 'asc' } });
    const rows = log.map((e) => {
      const d = JSON.parse(e.details!);
      return `${d.target}#${d.attempt}:${e.action}:${d.status}`;
    });
    assert.deepEqual(rows.filter((r) => r.startsWith('cad')), ['cad#1:webhook.failed:503', 'cad#2:webhook.failed:503', 'cad#3:webhook.delivered:204']);
    assert.deepEqual(rows.filter((r) => r.startsWith('strict')), ['strict#1:webhook.failed:400']);
    assert.ok(log.every((e) => !e.details!.includes(secret)), 'secrets never reach the log');

    // The same log, as the admin's delivery-log page reads it: newest first, filterable, paged.
    const api = await stack.startApi();
    const { token } = await loginAs(api, { username: 'webhook-admin', role: 'ADMIN' });
    const get = async (query: string) => {
      const res = await call(api.url, 'GET', `/api/v1/webhooks/deliveries${query}`, { token });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body as { items: { outcome: string; target: string; attempt: number; status: number | null; alertId: string; event: string; error: string | null; willRetry: boolean }[]; nextCursor: string | null };
    };
    const all = await get('');
    const line = (d: (typeof all.items)[number]) => `${d.target}#${d.attempt}:${d.outcome}:${d.status}`;
    assert.deepEqual(all.items.map(line).filter((r) => r.startsWith('cad')), ['cad#3:delivered:204', 'cad#2:failed:503', 'cad#1:failed:503']);
    assert.ok(all.items.every((d) => d.alertId === 'alert-1' && d.event === 'alert.created'));
    const strictRow = all.items.find((d) => d.target === 'strict')!;
    assert.equal(strictRow.willRetry, false, 'a 400 is final');
    assert.match(strictRow.error ?? '', /400/);
    assert.deepEqual((await get('?outcome=failed&target=cad')).items.map(line), ['cad#2:failed:503', 'cad#1:failed:503']);
    const first = await get('?limit=2');
    const second = await get(`?limit=2&cursor=${first.nextCursor}`);
    assert.deepEqual([...first.items, ...second.items].map(line), all.items.map(line), 'pages join up');
    assert.equal(second.nextCursor, null);
    assert.equal((await call(api.url, 'GET', '/api/v1/webhooks/deliveries?outcome=lost', { token })).status, 400);
  } finally {
    await worker.close();
    await notifier.close();
    await redis.quit();
    await deleteRedisPrefix('redis://127.0.0.1:6379', prefix);
  }
});

test("through the announcer, each precinct's target receives its zone's alerts; a camera moved between zones reaches both; a note carries its text", { timeout: 60_000 }, async () => {
  const prefix = uniquePrefix('webhooks-zones');
  const connection = { host: '127.0.0.1', port: 6379 };
  const targets = parseWebhookTargets(
    JSON.stringify([
      { name: 'centro', url: `${base}/zone-centro`, secret: 'centro-secret-0123456', zones: ['Centro'] },
      { name: 'sur', url: `${base}/zone-sur`, secret: 'sur-secret-0123456789', zones: ['Sur'] },
    ]),
  );
  const notifier = createWebhookNotifier({ connection, prefix, targets, logger: stack.logger, backoffMs: 20, attempts: 2 });
  const worker: Worker<WebhookJob> = createWebhookWorker({ connection, prefix, targets, audit: createAuditRepository(stack.db.prisma), logger: stack.logger });
  const done: string[] = [];
  worker.on('completed', (job) => done.push(`${job.data.target}:${job.data.payload.event}:${job.data.payload.alert.camera.zone}`));
  const settled = (n: number) =>
    withTimeout(
      new Promise<void>((resolve) => {
        const check = () => done.length >= n && resolve();
        worker.on('completed', check);
        check();
      }),
      `${n} zone deliveries`,
    );
  try {
    const announcer = createAnnouncer({ channels: [webhookChannel(notifier)], logger: stack.logger });
    const centro = { ...alert, id: 'alert-centro' };
    const all = settled(3);
    await announcer.announce({ kind: 'created', alert: centro });
    await announcer.announce({ kind: 'created', alert: { ...alert, id: 'alert-none', camera: { ...alert.camera, zone: null } } });
    // The Centro camera is moved to Sur: both precincts hear of the alert once.
    await announcer.announce({ kind: 'camera', alert: { ...centro, camera: { ...centro.camera, zone: 'Sur' } }, previousZone: 'Centro' });
    await all;
    assert.deepEqual(done.sort(), ['centro:alert.created:Centro', 'centro:alert.updated:Sur', 'sur:alert.updated:Sur']);
    // A note reaches the precinct's system with its text (a CAD keeps the incident's narrative), not only the count.
    const note = { at: new Date().toISOString(), username: 'ana', role: 'DISPATCHER', text: 'Caller: red jacket' };
    const noted = settled(4);
    await announcer.announce({ kind: 'noted', alert: { ...alert, id: 'alert-noted', noteCount: 1 }, note });
    await noted;
    const delivery = JSON.parse(received.find((r) => r.path === '/zone-centro' && r.body.includes('alert-noted'))!.body);
    assert.deepEqual([delivery.event, delivery.alert.noteCount, delivery.note], ['alert.updated', 1, note]);
    assert.ok(received.every((r) => !r.body.includes('alert-centro') || !r.body.includes('"note"')), 'other events carry no note');
    assert.ok(!received.some((r) => r.body.includes('alert-none')), 'a camera without a zone reaches no precinct');
  } finally {
    await worker.close();
    await notifier.close();
    await deleteRedisPrefix('redis://127.0.0.1:6379', prefix);
  }
});
