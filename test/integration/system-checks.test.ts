/**
 * Admin › System over real HTTP, on SQLite and PostgreSQL with the real Redis: GET /api/v1/system/checks runs
 * the doctor's checks from the API instance (models skipped), reports Redis's settings as Redis has them, lists
 * the running instances and compares their settings, and two requests at once share one run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { testProviders } from '../helpers/db.ts';
import { REDIS_URL } from '../helpers/env.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import type { SystemChecks } from '../../src/contracts/api.ts';
import { BEACON_INTERVAL_MS, startInstanceBeacon } from '../../src/system/instance-beacon.ts';
import { hostname } from 'node:os';
import pino from 'pino';

for (const provider of testProviders()) {
  describe(`GET /api/v1/system/checks (${provider}; real database and Redis)`, () => {
    let stack: TestStack;
    let api: ApiInstance;
    let admin: string;

    before(async () => {
      stack = await createTestStack(provider);
      api = await stack.startApi();
      admin = (await loginAs(api, { username: 'chief', role: 'ADMIN' })).token;
    });
    after(() => stack?.close());

    test("the deployment as this API sees it: migrated, Redis's settings as Redis has them, no worker, models left to worker hosts", async () => {
      const res = await call(api.url, 'GET', '/api/v1/system/checks', { token: admin });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const body = res.body as SystemChecks;
      const check = (name: string) => body.checks.find((c) => c.name === name) ?? assert.fail(`no "${name}" check`);
      assert.equal(check('database').status, 'ok');
      assert.match(check('database').detail, /migrations applied, none pending/);
      const info = new Redis(REDIS_URL);
      const aof = /aof_enabled:(\d)/.exec(await info.info('persistence'))![1];
      info.disconnect();
      assert.equal(check('redis persistence').status, aof === '1' ? 'ok' : 'fail');
      assert.equal(check('workers').status, 'warn', 'no worker beside this API');
      assert.equal(check('data folder').status, 'ok');
      assert.equal(check('vision').status, 'skipped');
      assert.match(check('vision').detail, /worker hosts/);
      assert.equal(body.failed, body.checks.filter((c) => c.status === 'fail').length);
      assert.equal(body.ok, body.failed === 0);
      assert.ok(Math.abs(Date.parse(body.checkedAt) - Date.now()) < 60_000);
      // This API announces itself, with its release and settings.
      assert.deepEqual(
        body.instances.map((i) => [i.kind, i.host, i.pid, i.settings.retentionDays]),
        [['api', hostname(), process.pid, stack.config.privacy.retentionDays]],
      );
      assert.match(body.instances[0]!.schema, /^\d{14}_/);
      assert.equal(check('instances').status, 'ok');
    });

    test('a worker started with another retention period is listed, counted by /metrics, and the instances check warns until it stops', async () => {
      const own = (await call(api.url, 'GET', '/api/v1/system/checks', { token: admin })).body as SystemChecks;
      const settings = { ...own.instances[0]!.settings, retentionDays: own.instances[0]!.settings.retentionDays + 7 };
      const worker = await startInstanceBeacon({ redisUrl: REDIS_URL, queuePrefix: stack.config.queuePrefix, kind: 'worker', settings, logger: pino({ level: 'silent' }) });
      try {
        const body = (await call(api.url, 'GET', '/api/v1/system/checks', { token: admin })).body as SystemChecks;
        assert.deepEqual(body.instances.map((i) => i.kind), ['api', 'worker'], 'oldest first');
        const instances = body.checks.find((c) => c.name === 'instances')!;
        assert.equal(instances.status, 'warn');
        assert.match(instances.detail, new RegExp(`MASKWATCH_RETENTION_DAYS=${settings.retentionDays} on worker on`));
        // Prometheus sees the same: two kinds running, two retention periods, one secret key.
        const metrics = (await (await fetch(`${api.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('maskwatch_instances')).sort();
        assert.deepEqual(metrics, [
          'maskwatch_instances_distinct{setting="incorrect_mask"} 1',
          'maskwatch_instances_distinct{setting="release"} 1',
          'maskwatch_instances_distinct{setting="retention_days"} 2',
          'maskwatch_instances_distinct{setting="secret_key"} 1',
          'maskwatch_instances{kind="api"} 1',
          'maskwatch_instances{kind="worker"} 1',
        ]);
        // A process killed without stopping drops out by itself: its announcement expires after three intervals.
        const redis = new Redis(REDIS_URL);
        const ttl = await redis.pttl(`${stack.config.queuePrefix}:instances:${worker.id}`).finally(() => redis.disconnect());
        assert.ok(ttl > 0 && ttl <= 3 * BEACON_INTERVAL_MS, `expires within three intervals: ${ttl} ms`);
      } finally {
        await worker.stop();
      }
      const after = (await call(api.url, 'GET', '/api/v1/system/checks', { token: admin })).body as SystemChecks;
      assert.deepEqual(after.instances.map((i) => i.kind), ['api'], 'a stopped instance leaves the list at once');
    });

    test('two requests at once share one run', async () => {
      const [a, b] = await Promise.all([1, 2].map(() => call(api.url, 'GET', '/api/v1/system/checks', { token: admin })));
      assert.equal(a!.status, 200);
      assert.deepEqual(a!.body, b!.body);
      const later = await call(api.url, 'GET', '/api/v1/system/checks', { token: admin });
      assert.notEqual(later.body.checkedAt, a!.body.checkedAt, 'a later request runs the checks again');
    });
  });
}
