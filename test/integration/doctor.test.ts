/**
 * `maskwatch doctor` on real deployments, on SQLite and PostgreSQL, with Redis servers of the test's own (one
 * configured as docs/operations.md requires, one not) and the real models: a first install, where it creates
 * nothing; a deployment as wanted, where every check passes; and each way of getting it wrong — Redis without
 * the append-only file or evicting keys, migrations to apply / unknown / changed, open permissions, Redis
 * down, a host clock a minute off, a sign-on provider that stopped answering (a real OpenID provider), an
 * invalid configuration — each named with its fix.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Worker } from 'bullmq';
import { runCli } from '../helpers/cli.ts';
import { testDatabase, testProviders, type TestDatabase } from '../helpers/db.ts';
import { tempDir, testConfig, uniquePrefix } from '../helpers/env.ts';
import { freePort, startPrivateRedis, type PrivateRedis } from '../helpers/redis-server.ts';
import { startTestIdp } from '../helpers/oidc-provider.ts';
import { openDatabase } from '../../src/db/client.ts';
import { parseDatabaseUrl } from '../../src/db/url.ts';
import { loadSecretKey, deriveKey, SECRET_KEY_FILE } from '../../src/auth/secret-box.ts';
import { evidenceSignerFromSeed } from '../../src/system/evidence-signer.ts';
import { runDoctor } from '../../src/system/doctor.ts';
import { sharedSettings, startInstanceBeacon } from '../../src/system/instance-beacon.ts';
import { secretKeys } from '../../src/system/secret-key.ts';
import { loadConfig } from '../../src/config/config.ts';
import pino from 'pino';
import { QUEUES } from '../../src/queue/jobs.ts';
import type { CheckResult } from '../../src/domain/deployment-checks.ts';

interface Report {
  ok: boolean;
  failed: number;
  warnings: number;
  checks: CheckResult[];
}

for (const provider of testProviders()) {
  describe(`maskwatch doctor (${provider}; Redis servers of its own, real models)`, () => {
    let tmp: { dir: string; cleanup(): Promise<void> };
    let dataDir: string;
    let db: TestDatabase;
    let good: PrivateRedis;
    let bad: PrivateRedis;
    const prefix = uniquePrefix('doctor');

    const env = (more: Record<string, string> = {}) => ({ DATABASE_URL: db.url, REDIS_URL: good.url, MASKWATCH_DATA_DIR: dataDir, MASKWATCH_QUEUE_PREFIX: prefix, LOG_LEVEL: 'warn', ...more });
    async function doctor(more: Record<string, string> = {}, args = ['--skip-vision']) {
      const run = await runCli(['doctor', '--json', ...args], { env: env(more) });
      assert.ok(run.stdout.trim(), `doctor printed no report (exit ${run.code}): ${run.stderr}`);
      const report = JSON.parse(run.stdout) as Report;
      return { code: run.code, report, check: (name: string) => report.checks.find((c) => c.name === name) ?? assert.fail(`no "${name}" check in ${JSON.stringify(report.checks)}`) };
    }
    /** Runs SQL on the test's database (its own schema on PostgreSQL), as an operator's hand would. */
    async function sql(statement: string, params: unknown[] = []) {
      const target = parseDatabaseUrl(db.url);
      if (target.provider === 'sqlite') {
        const conn = new BetterSqlite3(target.filename);
        try {
          conn.prepare(statement).run(...params);
        } finally {
          conn.close();
        }
        return;
      }
      const client = new pg.Client({ connectionString: target.connectionString });
      await client.connect();
      try {
        await client.query(`SET search_path TO "${target.schema}"`);
        let n = 0;
        await client.query(statement.replace(/\?/g, () => `$${++n}`), params);
      } finally {
        await client.end();
      }
    }

    before(async () => {
      tmp = await tempDir('doctor');
      dataDir = path.join(tmp.dir, 'data');
      db = testDatabase(provider, dataDir);
      good = await startPrivateRedis(undefined, ['--appendonly', 'yes', '--appendfsync', 'everysec', '--dir', tmp.dir, '--maxmemory-policy', 'noeviction']);
      bad = await startPrivateRedis(undefined, ['--maxmemory-policy', 'allkeys-lru']);
    });
    after(async () => {
      await good?.stop();
      await bad?.stop();
      await db?.cleanup();
      await tmp?.cleanup();
    });

    test('a first install: says what the first start will create, and creates nothing itself', async () => {
      const { code, report, check } = await doctor();
      assert.equal(code, 0, JSON.stringify(report.checks));
      assert.equal(check('database').status, 'warn');
      assert.match(check('database').detail, /no MaskWatch tables yet/);
      assert.deepEqual([check('redis persistence').status, check('redis eviction').status, check('redis clock').status], ['ok', 'ok', 'ok']);
      assert.equal(check('workers').status, 'warn');
      assert.equal(check('data folder').status, 'warn');
      assert.equal(check('secret key').status, 'warn');
      assert.equal(check('vision').status, 'skipped');
      assert.equal(existsSync(dataDir), false, 'no data folder, SQLite file or secret key made');
      if (provider === 'postgresql') {
        const target = parseDatabaseUrl(db.url) as { connectionString: string; schema: string };
        const client = new pg.Client({ connectionString: target.connectionString });
        await client.connect();
        const { rowCount } = await client.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [target.schema]).finally(() => client.end());
        assert.equal(rowCount, 0, 'no schema made');
      }
    });

    test('a deployment as docs/operations.md wants it: every check ok, the models run on a test frame', async () => {
      await mkdir(dataDir, { mode: 0o700 });
      await (await openDatabase(db.url)).close(); // the first start: migrated
      const secret = await loadSecretKey({ configured: null, dataDir });
      const worker = new Worker(QUEUES.frames, null, { connection: { url: good.url }, prefix });
      await worker.waitUntilReady();
      // A worker process announcing itself with this configuration's settings, as `maskwatch worker` does.
      const config = loadConfig(env());
      const beacon = await startInstanceBeacon({ redisUrl: good.url, queuePrefix: prefix, kind: 'worker', settings: await sharedSettings(config, secretKeys(config)), logger: pino({ level: 'silent' }) });
      try {
        const { code, report, check } = await doctor({}, []);
        assert.equal(code, 0, JSON.stringify(report.checks));
        const expected = ['configuration', 'database', ...(provider === 'postgresql' ? ['database clock'] : []), 'redis', 'redis version', 'redis persistence', 'redis eviction', 'redis clock', 'instances', 'workers', 'data folder', 'data folder access', 'disk space', 'secret key', 'network', 'single sign-on', 'webhooks', 'vision'];
        assert.deepEqual(report.checks.map((c) => c.name), expected);
        // A CI machine's disk may be nearly full: that check may warn, nothing else may. Single sign-on and webhooks are not configured here.
        assert.equal(check('single sign-on').status, 'skipped');
        assert.equal(check('webhooks').status, 'skipped');
        assert.deepEqual(report.checks.filter((c) => c.status !== 'ok' && !['disk space', 'single sign-on', 'webhooks'].includes(c.name)), []);
        assert.match(check('database').detail, /\d+ migrations applied, none pending/);
        assert.match(check('workers').detail, /^1 worker connection/);
        assert.match(check('vision').detail, /models verified \(SHA-256\) and loaded .* test frame detected and classified/);
        const fingerprint = evidenceSignerFromSeed(deriveKey(secret, 'evidence signing')).keyFingerprint;
        assert.match(check('secret key').detail, new RegExp(`signed by the key with fingerprint ${fingerprint}`));
        assert.match(check('instances').detail, /^1 running \(0 API, 1 worker\) on 1 host: release .*, one secret key, the same retention and mask policy as this host$/);

        // A host started with another secret key: it cannot check this one's seals or signatures.
        const stranger = await startInstanceBeacon({
          redisUrl: good.url,
          queuePrefix: prefix,
          kind: 'api',
          settings: { ...(await sharedSettings(config, secretKeys(config))), signingKeyFingerprint: 'cd'.repeat(32) },
          logger: pino({ level: 'silent' }),
        });
        try {
          const split = await doctor();
          assert.equal(split.code, 1);
          assert.equal(split.check('instances').status, 'fail');
          assert.match(split.check('instances').detail, new RegExp(`with different secret keys: secret key with signing fingerprint ${fingerprint.slice(0, 12)}… on worker on .* \\(pid ${process.pid}\\), this host's configuration; secret key with signing fingerprint cdcdcdcdcdcd… on API on`));
        } finally {
          await stranger.stop();
        }
        assert.equal((await doctor()).check('instances').status, 'ok', 'gone from the list once stopped');
      } finally {
        await beacon.stop();
        await worker.close();
      }
      assert.equal((await doctor()).check('instances').status, 'warn', 'none left');
    });

    test('Redis without the append-only file and evicting keys: both fail, with their fix', async () => {
      const { code, report, check } = await doctor({ REDIS_URL: bad.url });
      assert.equal(code, 1);
      assert.equal(report.ok, false);
      assert.equal(check('redis persistence').status, 'fail');
      assert.match(check('redis persistence').fix!, /appendonly yes/);
      assert.equal(check('redis eviction').status, 'fail');
      assert.match(check('redis eviction').detail, /allkeys-lru/);
      assert.equal(report.failed, 2);
    });

    test('migrations: one to apply warns; one this release does not have, or one changed since applied, fails', async () => {
      const last = (await doctor()).check('database');
      assert.equal(last.status, 'ok');
      const name = '29991231000000_from_a_newer_release';
      await sql('INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "started_at", "applied_steps_count") VALUES (?, ?, ?, ?, ?, 1)', [
        'doctor-test',
        'x'.repeat(64),
        new Date().toISOString(),
        name,
        new Date().toISOString(),
      ]);
      const newer = await doctor();
      assert.equal(newer.code, 1);
      assert.equal(newer.check('database').status, 'fail');
      assert.match(newer.check('database').detail, new RegExp(`holds migrations this release does not have \\(${name}\\)`));

      await sql('UPDATE "_prisma_migrations" SET "migration_name" = ? WHERE "id" = ?', ['20261207085929_evidence_hold_review', 'doctor-test']);
      await sql('DELETE FROM "_prisma_migrations" WHERE "migration_name" = ? AND "id" <> ?', ['20261207085929_evidence_hold_review', 'doctor-test']);
      const changed = await doctor();
      assert.equal(changed.check('database').status, 'fail');
      assert.match(changed.check('database').detail, /20261207085929_evidence_hold_review was modified after it was applied/);

      await sql('DELETE FROM "_prisma_migrations" WHERE "id" = ?', ['doctor-test']);
      const pending = await doctor();
      assert.equal(pending.code, 0);
      assert.equal(pending.check('database').status, 'warn');
      assert.match(pending.check('database').detail, /1 to apply \(20261207085929_evidence_hold_review\)/);
      assert.match(pending.check('database').fix!, /back up first/);
    });

    test('open permissions: a data folder others can enter warns, a secret key others can read fails', async () => {
      await chmod(dataDir, 0o755);
      await chmod(path.join(dataDir, SECRET_KEY_FILE), 0o644);
      try {
        const { code, check } = await doctor();
        assert.equal(code, 1);
        assert.equal(check('data folder access').status, 'warn');
        assert.equal(check('data folder access').fix, `chmod 700 ${dataDir}`);
        assert.equal(check('secret key').status, 'fail');
        assert.equal(check('secret key').fix, `chmod 600 ${path.join(dataDir, SECRET_KEY_FILE)}`);
      } finally {
        await chmod(dataDir, 0o700);
        await chmod(path.join(dataDir, SECRET_KEY_FILE), 0o600);
      }
    });

    test('Redis down: the Redis check fails and says how to start one; the other checks still run', async () => {
      const { code, report, check } = await doctor({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      assert.equal(code, 1);
      assert.equal(check('redis').status, 'fail');
      assert.match(check('redis').detail, /Redis is not reachable/);
      assert.ok(!report.checks.some((c) => c.name === 'redis persistence'));
      assert.equal(check('data folder').status, 'ok');
    });

    test('a host clock a minute behind: the Redis (and database server) clocks fail', async () => {
      const config = testConfig(dataDir, { DATABASE_URL: db.url, REDIS_URL: good.url, MASKWATCH_QUEUE_PREFIX: prefix });
      const results = await runDoctor({ config, vision: false, now: () => Date.now() - 60_000 });
      const clocks = results.filter((r) => r.name.endsWith(' clock'));
      assert.deepEqual(clocks.map((r) => r.name), provider === 'postgresql' ? ['database clock', 'redis clock'] : ['redis clock']);
      for (const r of clocks) {
        assert.equal(r.status, 'fail');
        const ahead = Number(/is (\d+\.\d{3}) s ahead of this host/.exec(r.detail)?.[1]);
        assert.ok(ahead > 59 && ahead < 61, `a minute ahead, within the round trip: ${r.detail}`);
      }
    });

    test("single sign-on: the agency's provider answers discovery; once it is down, the check fails with its fix", async () => {
      const idp = await startTestIdp();
      const sso = () => ({ MASKWATCH_SSO_ISSUER: idp.issuer, MASKWATCH_SSO_CLIENT_ID: 'maskwatch', MASKWATCH_SSO_CLIENT_SECRET: 'doctor-test-secret' });
      try {
        idp.addClient({ clientId: 'maskwatch', clientSecret: 'doctor-test-secret', redirectUri: 'http://127.0.0.1:3000/api/v1/auth/sso/callback' });
        const up = (await doctor(sso())).check('single sign-on');
        assert.equal(up.status, 'ok', up.detail);
        assert.match(up.detail, new RegExp(`^${idp.issuer} answers discovery; sign-in at ${idp.issuer}/`));
      } finally {
        await idp.close();
      }
      const down = await doctor(sso());
      assert.equal(down.code, 1);
      assert.equal(down.check('single sign-on').status, 'fail');
      assert.match(down.check('single sign-on').fix!, /MASKWATCH_SSO_ISSUER/);
      assert.equal((await doctor()).check('single sign-on').status, 'skipped', 'not configured');
    });

    test('webhooks: a target that answers (any status) is ok; one nothing listens at fails, shown by its origin only', async () => {
      const cad = createServer((req, res) => res.writeHead(req.method === 'HEAD' ? 405 : 200).end());
      await new Promise<void>((resolve) => cad.listen(0, '127.0.0.1', resolve));
      const closed = await freePort();
      const target = (name: string, port: number) => ({ name, url: `http://127.0.0.1:${port}/hooks/s3cr3t-token?key=s3cr3t`, secret: 'x'.repeat(32) });
      try {
        const up = await doctor({ MASKWATCH_WEBHOOKS: JSON.stringify([target('cad', (cad.address() as AddressInfo).port)]) });
        assert.equal(up.check('webhooks').status, 'ok');
        assert.equal(up.check('webhooks').detail, 'cad (HTTP 405) answered from this host');
        const down = await doctor({ MASKWATCH_WEBHOOKS: JSON.stringify([target('cad', (cad.address() as AddressInfo).port), target('siem', closed)]) });
        assert.equal(down.code, 1);
        assert.equal(down.check('webhooks').status, 'fail');
        assert.match(down.check('webhooks').detail, new RegExp(`^siem at http://127\\.0\\.0\\.1:${closed} did not answer: ECONNREFUSED; cad \\(HTTP 405\\) answered$`));
        assert.doesNotMatch(JSON.stringify(down.report), /s3cr3t/, 'no path or query of a target is shown');
      } finally {
        cad.close();
      }
    });

    test('an invalid configuration is one failed check, named by its variable', async () => {
      const { code, report } = await doctor({ DATABASE_URL: 'mysql://db/maskwatch' });
      assert.equal(code, 1);
      assert.deepEqual(report.checks.map((c) => [c.name, c.status]), [['configuration', 'fail']]);
      assert.match(report.checks[0]!.detail, /^DATABASE_URL: /);
    });
  });
}
