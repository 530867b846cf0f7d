/**
 * The smaller audit findings of issue 13 (item 7), each over real HTTP or
 * Socket.IO against the real app (SQLite, real Redis).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { io as connectSocket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { startApiInstance } from '../../src/system/api-instance.ts';
import { parseCapturedAt } from '../../src/api/ingest/captured-at.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';

const JPEG = await readFile(path.resolve(process.cwd(), '..', 'shared', 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));
const DAY = 86_400_000;

describe('small findings over HTTP', () => {
  let stack: TestStack;
  let api: ApiInstance;
  let admin: string;
  let cameraKey: string;

  before(async () => {
    stack = await createTestStack('sqlite', { MASKWATCH_RETENTION_DAYS: '30' });
    api = await stack.startApi();
    admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
    cameraKey = (await call(api.url, 'POST', '/api/v1/cameras', { token: admin, json: { name: 'gate', latitude: 1, longitude: 1 } })).body.apiKey;
  });
  after(() => stack?.close());

  test('capturedAt is bounded: not before now − retention (400), not after now + clock skew (400)', async () => {
    const post = (capturedAt: Date) =>
      call(api.url, 'POST', '/api/v1/frames', {
        body: JPEG,
        headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'image/jpeg', 'x-captured-at': capturedAt.toISOString() },
      });
    const old = await post(new Date(Date.now() - 31 * DAY));
    assert.equal(old.status, 400, JSON.stringify(old.body));
    assert.match(old.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.match(old.body.detail, /retention period \(30 days\)/);
    assert.equal((await post(new Date(Date.now() + 10 * 60_000))).status, 400);
    assert.equal((await post(new Date(Date.now() - 29 * DAY))).status, 202);
    const now = new Date('2026-06-01T00:00:00Z');
    assert.equal(parseCapturedAt('2026-05-01T23:59:59Z', now, undefined, 30 * DAY).ok, false);
    assert.equal(parseCapturedAt('2026-05-02T00:00:00Z', now, undefined, 30 * DAY).ok, true);
  });

  test('snapshot URLs do not accept ?token= (tokens leak into proxy logs); the bearer header works', async () => {
    const dir = path.join(stack.dataDir, 'snapshots', 'cam-tok');
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'face.jpg'), JPEG.subarray(0, 64));
    // A crop is served only when an alert shows it.
    const cameraId = (await stack.db.prisma.camera.findFirstOrThrow()).id;
    const now = new Date();
    await stack.db.prisma.alert.create({
      data: { cameraId, trackId: randomUUID(), firstSeenAt: now, lastSeenAt: now, noMaskProbability: 0.9, snapshotPath: 'snapshots/cam-tok/face.jpg' },
    });
    const { token } = await loginAs(api, { username: 'viewer', role: 'DISPATCHER' });
    const viaQuery = await call(api.url, 'GET', `/api/v1/snapshots/cam-tok/face.jpg?token=${token}`);
    assert.equal(viaQuery.status, 401);
    assert.match(viaQuery.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const viaHeader = await fetch(`${api.url}/api/v1/snapshots/cam-tok/face.jpg`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(viaHeader.status, 200);
    assert.ok(Buffer.from(await viaHeader.arrayBuffer()).equals(JPEG.subarray(0, 64)));
    const view = await stack.db.prisma.auditEvent.findFirst({ where: { action: 'snapshot.view', subjectId: 'cam-tok/face.jpg' } });
    assert.ok(view);
    assert.equal(JSON.parse(view.details!).clientIp, '127.0.0.1');
    // The OpenAPI document no longer offers a query-string token.
    const doc = (await call(api.url, 'GET', '/docs/json')).body;
    assert.doesNotMatch(JSON.stringify(doc), /"in":"query","name":"token"/);
  });

  test("officers cannot probe another unit's alerts: every refusal is the same 404 as for no alert", async () => {
    const unit = async (callSign: string) => (await call(api.url, 'POST', '/api/v1/units', { token: admin, json: { callSign } })).body.id as string;
    const unitA = await unit('P-A');
    await unit('P-B');
    const officerA = (await loginAs(api, { username: 'probe-a', role: 'OFFICER', unitCallSign: 'P-A' })).token;
    const officerB = (await loginAs(api, { username: 'probe-b', role: 'OFFICER', unitCallSign: 'P-B' })).token;
    const cameraId = (await stack.db.prisma.camera.findFirstOrThrow()).id;
    const now = new Date();
    const alert = (status: 'NEW' | 'DISPATCHED' | 'RESOLVED', unitId: string | null) =>
      stack.db.prisma.alert.create({
        data: { cameraId, status, trackId: randomUUID(), firstSeenAt: now, lastSeenAt: now, violationCount: 1, noMaskProbability: 0.1, assignedUnitId: unitId, dispatchedAt: unitId ? now : null },
      });
    const dispatchedToA = await alert('DISPATCHED', unitA);
    const resolvedOfA = await alert('RESOLVED', unitA);
    const unassigned = await alert('NEW', null);
    const missing = randomUUID();
    const shape = (r: Awaited<ReturnType<typeof call>>, id: string) => ({ status: r.status, type: r.body.type, title: r.body.title, detail: String(r.body.detail).replace(id, '<id>') });
    const expected = shape(await call(api.url, 'POST', `/api/v1/alerts/${missing}/acknowledge`, { token: officerB }), missing);
    assert.equal(expected.status, 404);
    for (const [what, id] of [['dispatched to unit A', dispatchedToA.id], ['resolved, of unit A', resolvedOfA.id], ['unassigned', unassigned.id]] as const) {
      for (const action of ['acknowledge', 'en-route', 'on-scene']) {
        const res = await call(api.url, 'POST', `/api/v1/alerts/${id}/${action}`, { token: officerB });
        assert.deepEqual(shape(res, id), expected, `${action} on an alert ${what}`);
      }
    }
    // Unit A's own officer still gets the real answers: 409 for an illegal step, 200 for a legal one.
    assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${resolvedOfA.id}/acknowledge`, { token: officerA })).status, 409);
    assert.equal((await call(api.url, 'POST', `/api/v1/alerts/${dispatchedToA.id}/acknowledge`, { token: officerA })).status, 200);
  });
});

describe('client addresses in the audit trail and the logs (behind a trusted proxy)', () => {
  let stack: TestStack;
  let api: ApiInstance;
  const lines: Array<Record<string, unknown>> = [];

  before(async () => {
    stack = await createTestStack('sqlite', { MASKWATCH_TRUST_PROXY: '127.0.0.1' });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    api = await startApiInstance({ config: stack.config, db: stack.db, logger: pino({ level: 'info' }, sink) });
  });
  after(async () => {
    await api?.close();
    await stack?.close();
  });

  test('CSV exports are audited with who, the filters and the client IP; request log lines carry the IP', async () => {
    const { token, userId } = await loginAs(api, { username: 'exporter', role: 'DISPATCHER' });
    const res = await fetch(`${api.url}/api/v1/violations.csv?zone=north`, { headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '192.0.2.5' } });
    assert.equal(res.status, 200);
    await res.text();
    const event = await stack.db.prisma.auditEvent.findFirst({ where: { action: 'violations.export' } });
    assert.ok(event, 'export audited');
    assert.equal(event.actorId, userId);
    assert.deepEqual(JSON.parse(event.details!), { filters: { zone: 'north' }, clientIp: '192.0.2.5' });
    const line = lines.find((l) => l.msg === 'request' && l.url === '/api/v1/violations.csv');
    assert.ok(line, 'request logged');
    assert.equal(line.ip, '192.0.2.5');
  });
});

describe('Socket.IO connection rate limit per client IP', () => {
  let stack: TestStack;
  let api: ApiInstance;

  before(async () => {
    stack = await createTestStack('sqlite', { MASKWATCH_RATE_SOCKET_PER_IP: '3', MASKWATCH_TRUST_PROXY: '127.0.0.1' });
    api = await stack.startApi();
  });
  after(() => stack?.close());

  /** Resolves "connected" or the connect_error message; the socket is closed either way. */
  const attempt = (token: string, ip: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connectSocket(api.url, { auth: { token }, transports: ['websocket'], reconnection: false, extraHeaders: { 'x-forwarded-for': ip } });
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error(`no connect or connect_error from ${ip} within 5 s`));
      }, 5000);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.close();
        resolve('connected');
      });
      socket.once('connect_error', (err) => {
        clearTimeout(timer);
        socket.close();
        resolve(`error: ${err.message}`);
      });
    });

  test('the 4th connection from one address in the window is refused before authentication; other addresses connect', async () => {
    const { token } = await loginAs(api, { username: 'watcher', role: 'DISPATCHER' });
    assert.match(await attempt('not-a-token', '198.51.100.1'), /unauthorized/, 'bad tokens count too');
    assert.equal(await attempt(token, '198.51.100.1'), 'connected');
    assert.equal(await attempt(token, '198.51.100.1'), 'connected');
    const refused = await attempt(token, '198.51.100.1');
    assert.match(refused, /^error: /);
    assert.doesNotMatch(refused, /unauthorized/);
    assert.equal(await attempt(token, '198.51.100.2'), 'connected');
  });
});
