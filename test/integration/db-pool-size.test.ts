/**
 * MASKWATCH_DB_POOL_SIZE reaches the PostgreSQL pool of a process opened from the configuration:
 * with 2, eight concurrent queries share two connections (pg's default would open eight).
 * Connections are told apart by an application_name of this test's own.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import { startApiInstance, type ApiInstance } from '../../src/system/api-instance.ts';
import { deleteRedisPrefix, POSTGRES_URL, tempDir, testConfig, testLogger, uniqueId } from '../helpers/env.ts';
import { testDatabase, testProviders } from '../helpers/db.ts';

describe('MASKWATCH_DB_POOL_SIZE', () => {
  it('is validated, 10 by default', () => {
    assert.equal(loadConfig({}).databasePoolSize, 10);
    assert.equal(loadConfig({ MASKWATCH_DB_POOL_SIZE: '25' }).databasePoolSize, 25);
    for (const bad of ['0', '-1', '2.5', 'ten']) {
      assert.throws(() => loadConfig({ MASKWATCH_DB_POOL_SIZE: bad }), /MASKWATCH_DB_POOL_SIZE: must be an integer between 1 and 1000/);
    }
  });

  it('bounds the connections of an API instance opened from the configuration', { skip: !testProviders().includes('postgresql') }, async () => {
    const tmp = await tempDir('maskwatch-pool');
    const database = testDatabase('postgresql', tmp.dir);
    const appName = `mwpool_${uniqueId()}`;
    const url = new URL(database.url);
    url.searchParams.set('application_name', appName);
    const config = testConfig(tmp.dir, { DATABASE_URL: url.toString(), MASKWATCH_DB_POOL_SIZE: '2' });
    const opened: { api?: ApiInstance } = {};
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    after(async () => {
      await opened.api?.close();
      await admin.end();
      await database.cleanup();
      await deleteRedisPrefix(config.redisUrl, config.queuePrefix);
      await tmp.cleanup();
    });
    await admin.connect();
    opened.api = await startApiInstance({ config, logger: testLogger(), ensureAdmin: false });
    const prisma = opened.api.db.prisma;
    let most = 0;
    const sleeping = Promise.all(Array.from({ length: 8 }, () => prisma.$queryRawUnsafe('SELECT pg_sleep(0.3)::text AS slept')));
    for (let i = 0; i < 8; i++) {
      const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [appName]);
      most = Math.max(most, rows[0]!.n);
      await new Promise((r) => setTimeout(r, 100));
    }
    await sleeping;
    assert.ok(most >= 1, 'the test sees the pool');
    assert.ok(most <= 2, `at most 2 connections, saw ${most}`);
  });
});
