/**
 * Webhooks wired end to end (issue 4, item 5) from MASKWATCH_WEBHOOKS, with real
 * parts: a camera POSTs an unmasked face to the API, the detection worker (real
 * engine) raises the alert, the worker's publisher hands it to the webhook queue
 * and the delivery worker POSTs it, signed, to a local HTTP receiver; then a
 * dispatcher's action in the API is delivered too. Real Redis (unique prefix), SQLite.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Queue, QueueEvents } from 'bullmq';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { verifySignature, type WebhookPayload } from '../../src/notify/webhook-core.ts';
import { WEBHOOK_QUEUE } from '../../src/notify/webhooks.ts';
import { startWebhookDelivery, type WebhookDelivery } from '../../src/queue/handlers/alert-notifiers.ts';
import type { DetectionWorker } from '../../src/queue/handlers/detection.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import type { VisionEngine } from '../../src/vision/types.ts';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { UNMASKED_FACE, loadEngine, stackDetectionWorker } from './worker-support.ts';

interface Delivery {
  headers: IncomingMessage['headers'];
  body: string;
  payload: WebhookPayload;
}

/** A control-room receiver: records every POST and lets a test wait for one matching. */
class Receiver {
  readonly deliveries: Delivery[] = [];
  private waiters: { match: (d: Delivery) => boolean; resolve: (d: Delivery) => void }[] = [];
  readonly server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const d = { headers: req.headers, body, payload: JSON.parse(body) as WebhookPayload };
      this.deliveries.push(d);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(d)) return true;
        w.resolve(d);
        return false;
      });
      res.writeHead(204).end();
    });
  });

  next(match: (d: Delivery) => boolean): Promise<Delivery> {
    const seen = this.deliveries.find(match);
    return seen ? Promise.resolve(seen) : new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

const SECRET = 'control-room-shared-secret-0123';

function verifies(d: Delivery, secret = SECRET, body = d.body): boolean {
  const header = d.headers['x-maskwatch-signature'];
  const timestamp = d.headers['x-maskwatch-timestamp'];
  return verifySignature(secret, typeof header === 'string' ? header : undefined, typeof timestamp === 'string' ? timestamp : undefined, body, Date.now() / 1000);
}

describe('webhooks from MASKWATCH_WEBHOOKS: worker alerts and API actions, signed', () => {
  const receiver = new Receiver();
  let stack: TestStack;
  let api: ApiInstance;
  let engine: VisionEngine;
  let delivery: WebhookDelivery | undefined;
  let detection: DetectionWorker;

  before(async () => {
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    const url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}/maskwatch`;
    stack = await createTestStack('sqlite', { MASKWATCH_WEBHOOKS: JSON.stringify([{ name: 'control-room', url, secret: SECRET }]) });
    api = await stack.startApi();
    engine = await loadEngine(stack.config);
    delivery = startWebhookDelivery({
      connection: redisOptionsFromUrl(stack.config.redisUrl),
      prefix: stack.config.queuePrefix,
      targets: stack.config.webhooks,
      prisma: stack.db.prisma,
      logger: stack.logger,
    });
    detection = stackDetectionWorker(stack, engine, { channels: delivery ? [delivery.channel] : [] });
  });

  after(async () => {
    await detection?.close();
    await delivery?.close();
    await engine?.close();
    await stack?.close();
    receiver.server.close();
  });

  it('parses the targets from the environment', () => {
    assert.deepEqual(
      stack.config.webhooks.map((t) => [t.name, t.events]),
      [['control-room', ['alert.created', 'alert.updated']]],
    );
    assert.ok(delivery, 'the worker side is started when targets are configured');
  });

  it('a camera frame of an unmasked face reaches the receiver as a signed alert.created; a dispatch as a signed alert.updated', async () => {
    const admin = (await loginAs(api, { username: 'admin', role: 'ADMIN' })).token;
    const dispatcher = (await loginAs(api, { username: 'dispatcher', role: 'DISPATCHER' })).token;
    const cam = await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'Harbour gate', latitude: 43.3, longitude: -8.4 } });
    assert.equal(cam.status, 201, JSON.stringify(cam.body));
    const frame = await call(api.url, 'POST', '/api/v1/frames', {
      token: cam.body.apiKey,
      body: await readFile(UNMASKED_FACE),
      headers: { 'content-type': 'image/jpeg' },
    });
    assert.equal(frame.status, 202, JSON.stringify(frame.body));

    const created = await receiver.next((d) => d.payload.event === 'alert.created' && d.payload.alert.cameraId === cam.body.id);
    assert.equal(created.headers['x-maskwatch-event'], 'alert.created');
    assert.equal(created.headers['x-maskwatch-delivery'], created.payload.id);
    assert.ok(verifies(created), 'HMAC-SHA256 signature verifies with the shared secret');
    assert.equal(verifies(created, 'another-secret-of-sixteen+'), false);
    assert.equal(verifies(created, SECRET, created.body.replace('Harbour gate', 'Harbour gatE')), false, 'a tampered body fails');
    assert.equal(created.payload.alert.camera.name, 'Harbour gate');
    assert.equal(created.payload.alert.status, 'NEW');
    const alertId = created.payload.alert.id;
    const stored = await stack.db.prisma.alert.findUniqueOrThrow({ where: { id: alertId } });
    assert.equal(stored.cameraId, cam.body.id);

    // The delivery log records it once the delivery job has finished.
    const connection = redisOptionsFromUrl(stack.config.redisUrl);
    const queue = new Queue(WEBHOOK_QUEUE, { connection, prefix: stack.config.queuePrefix });
    const events = new QueueEvents(WEBHOOK_QUEUE, { connection, prefix: stack.config.queuePrefix });
    try {
      await events.waitUntilReady();
      const job = await queue.getJob(`${created.payload.id}_control-room`);
      assert.ok(job, 'one delivery job per event and target');
      await job.waitUntilFinished(events);
    } finally {
      await events.close();
      await queue.close();
    }
    const log = await stack.db.prisma.auditEvent.findMany({ where: { subjectId: alertId, action: 'webhook.delivered' } });
    assert.equal(log.length, 1);
    assert.equal(log[0]!.actorType, 'SYSTEM');
    assert.deepEqual(
      (({ target, event, status }) => ({ target, event, status }))(JSON.parse(log[0]!.details!) as Record<string, unknown>),
      { target: 'control-room', event: 'alert.created', status: 204 },
    );

    // A dispatcher's action in the API goes out too.
    const unit = await stack.db.prisma.patrolUnit.create({ data: { callSign: 'H-1' } });
    const res = await call(api.url, 'POST', `/api/v1/alerts/${alertId}/dispatch`, { token: dispatcher, json: { unitId: unit.id } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const updated = await receiver.next((d) => d.payload.event === 'alert.updated' && d.payload.alert.id === alertId && d.payload.alert.status === 'DISPATCHED');
    assert.ok(verifies(updated));
    assert.equal(updated.payload.alert.assignedUnitId, unit.id);
    assert.notEqual(updated.payload.id, created.payload.id);
  });

  it('a bad MASKWATCH_WEBHOOKS stops start-up with an error naming the variable', () => {
    const bad = (value: string) => () => loadConfig({ MASKWATCH_WEBHOOKS: value }, process.cwd());
    const named = (re: RegExp) => (err: unknown) =>
      err instanceof ConfigError && err.variable === 'MASKWATCH_WEBHOOKS' && re.test(err.message) && !/MASKWATCH_WEBHOOKS: MASKWATCH_WEBHOOKS/.test(err.message);
    assert.throws(bad('not json'), named(/^MASKWATCH_WEBHOOKS: must be a JSON array/));
    assert.throws(bad('[{"name":"cc","url":"http://control.example.org/hook","secret":"0123456789abcdef"}]'), named(/https/));
    assert.throws(bad('[{"name":"cc","url":"https://control.example.org/hook","secret":"short"}]'), named(/secret/));
    assert.deepEqual(loadConfig({}, process.cwd()).webhooks, []);
  });
});
