/**
 * The API while PostgreSQL refuses connections (allow_connections false, every session terminated:
 * what a failover or a maintenance window looks like from here). A request that needs the database
 * answers 503 with Retry-After, like a Redis outage, not 500 with a stack in the log; /readyz says
 * "unreachable" without the driver's text; both come back once the database does. The database is
 * one of this test's own (the shared test database must keep accepting connections).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import pg from 'pg';
import pino from 'pino';
import { startApiInstance, type ApiInstance } from '../../src/system/api-instance.ts';
import { call } from '../helpers/api.ts';
import { deleteRedisPrefix, POSTGRES_URL, tempDir, testConfig, uniqueId } from '../helpers/env.ts';
import { isDatabaseUnavailable } from '../../src/db/unavailable.ts';

const ADMIN = { username: 'outage-admin', password: 'outage password 1' };

describe('API: PostgreSQL refusing connections', () => {
  const dbName = `mw_outage_${uniqueId()}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  const logLines: Record<string, unknown>[] = [];
  let api: ApiInstance | undefined;
  let cleanupTmp: (() => Promise<void>) | undefined;
  let prefix = '';

  const sql = (text: string) => admin.query(text);
  const refuseConnections = async () => {
    await sql(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS false`);
    await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbName}'`);
  };

  before(async () => {
    await admin.connect();
    await sql(`CREATE DATABASE "${dbName}"`);
    const url = new URL(POSTGRES_URL);
    url.pathname = `/${dbName}`;
    const tmp = await tempDir('maskwatch-outage');
    cleanupTmp = tmp.cleanup;
    const config = testConfig(tmp.dir, {
      DATABASE_URL: url.toString(),
      MASKWATCH_ADMIN_USER: ADMIN.username,
      MASKWATCH_ADMIN_PASSWORD: ADMIN.password,
      MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD: 'false',
      LOG_LEVEL: 'info',
    });
    prefix = config.queuePrefix;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    api = await startApiInstance({ config, logger: pino({ level: 'info' }, sink) });
  });

  after(async () => {
    await api?.close();
    await sql(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`).catch(() => {});
    await sql(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
    await deleteRedisPrefix(testConfig('/tmp').redisUrl, prefix);
    await cleanupTmp?.();
  });

  it('login answers 503 database-unavailable with Retry-After, /readyz says "unreachable"; both recover', async () => {
    const login = () => call(api!.url, 'POST', '/api/v1/auth/login', { json: ADMIN });
    assert.equal((await login()).status, 200);

    await refuseConnections();
    try {
      await whileRefused();
    } finally {
      await sql(`ALTER DATABASE "${dbName}" WITH ALLOW_CONNECTIONS true`);
    }
    assert.equal((await login()).status, 200);
    assert.equal((await call(api!.url, 'GET', '/readyz')).body.checks.database, 'ok');
  });

  async function whileRefused() {
    const login = () => call(api!.url, 'POST', '/api/v1/auth/login', { json: ADMIN });
    logLines.length = 0;
    for (let i = 0; i < 2; i++) {
      // The first attempt meets the terminated sessions (57P01), the next a refused connection (55000, FATAL).
      const res = await login();
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.headers.get('retry-after'), '5');
      assert.equal(res.body.type, 'https://maskwatch.dev/problems/database-unavailable');
      assert.match(res.body.detail, /database is unavailable/);
    }
    const ready = await call(api!.url, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.database, 'unreachable');
    assert.doesNotMatch(JSON.stringify(ready.body), /prisma|invocation|accepting connections/i);
    const logged = JSON.stringify(logLines);
    assert.match(logged, /database unavailable/);
    assert.match(logged, /not currently accepting connections/, 'the detail is in the log');
    assert.ok(!logLines.some((l) => typeof (l.err as { stack?: string } | undefined)?.stack === 'string'), 'no stack traces logged');
  }

  it('an ordinary query error is not taken for an outage', async () => {
    const err = await api!.db.prisma.$queryRawUnsafe('SELECT * FROM no_such_table').catch((e: unknown) => e);
    assert.ok(err instanceof Error);
    assert.equal(isDatabaseUnavailable(err), false);
    const dup = await api!.db.prisma.user
      .create({ data: { username: ADMIN.username, passwordHash: 'x', role: 'ADMIN' } })
      .catch((e: unknown) => e);
    assert.ok(dup instanceof Error);
    assert.equal(isDatabaseUnavailable(dup), false);
  });
});
