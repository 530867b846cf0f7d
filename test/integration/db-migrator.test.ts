/**
 * The start-up migrator against real databases: SQLite files in temp dirs and
 * the local PostgreSQL, each run in its own schema (dropped afterwards).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import {
  MigrationError,
  PROVIDERS,
  checksumOf,
  migrate,
  migrationsDirFor,
  planMigrations,
  readMigrations,
  type Migration,
  type MigrationRecord,
} from '../../src/db/migrator.ts';
import type { Provider } from '../../src/db/url.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const MODEL_TABLES = ['Alert', 'AuditEvent', 'Camera', 'PatrolUnit', 'Session', 'User', 'Violation'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'maskwatch-db-migrator-'));
const schemas: string[] = [];
after(async () => {
  rmSync(tmpRoot, { recursive: true, force: true });
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

/** A fresh, empty database of one provider, plus a way to look inside it without Prisma. */
interface TestDb {
  url: string;
  query(sql: string): Promise<Record<string, unknown>[]>;
  tables(): Promise<string[]>;
}

function freshDb(provider: Provider): TestDb {
  const id = `${process.pid}_${randomBytes(4).toString('hex')}`;
  if (provider === 'sqlite') {
    const file = path.join(tmpRoot, `db_${id}`, 'test.db');
    const withDb = <T>(fn: (db: BetterSqlite3.Database) => T): T => {
      const db = new BetterSqlite3(file, { readonly: true });
      try {
        return fn(db);
      } finally {
        db.close();
      }
    };
    return {
      url: `file:${file}`,
      query: async (sql) => withDb((db) => db.prepare(sql).all() as Record<string, unknown>[]),
      tables: async () =>
        withDb((db) =>
          (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as {
            name: string;
          }[]).map((r) => r.name),
        ),
    };
  }
  const schema = `mw_migrator_${id}`;
  schemas.push(schema);
  const run = async (sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> => {
    const client = new pg.Client({ connectionString: PG_URL, options: `-c search_path="${schema}"` });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    url: `${PG_URL}?schema=${schema}`,
    query: (sql) => run(sql),
    tables: async () =>
      (await run('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema])).map(
        (r) => String(r.table_name),
      ),
  };
}

/** Writes a migrations folder of our own (name → SQL) into a temp dir. */
function migrationsFolder(migrations: Record<string, string>): string {
  const dir = path.join(tmpRoot, `migrations_${randomBytes(4).toString('hex')}`);
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(path.join(dir, name), { recursive: true });
    writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<MigrationError> {
  const err = await promise.then(
    () => assert.fail(`expected MigrationError ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof MigrationError, `expected MigrationError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

function migration(name: string, sql: string): Migration {
  return { name, sql, checksum: checksumOf(sql) };
}

function record(m: Migration, over: Partial<MigrationRecord> = {}): MigrationRecord {
  return {
    id: 'x',
    checksum: m.checksum,
    finished_at: new Date(),
    migration_name: m.name,
    logs: null,
    rolled_back_at: null,
    started_at: new Date(),
    applied_steps_count: 1,
    ...over,
  };
}

describe('planMigrations (pure)', () => {
  const a = migration('20260101000000_a', 'CREATE TABLE a (x INT);');
  const b = migration('20260102000000_b', 'CREATE TABLE b (x INT);');

  test('everything is pending on an empty history, in order', () => {
    assert.deepEqual(planMigrations([a, b], []).pending.map((m) => m.name), [a.name, b.name]);
  });

  test('applied migrations are skipped; unknown ones are reported, not applied', () => {
    const plan = planMigrations([a, b], [record(a), record(migration('20250101000000_old', ''))]);
    assert.deepEqual(plan.pending.map((m) => m.name), [b.name]);
    assert.deepEqual(plan.unknown, ['20250101000000_old']);
  });

  test('a rolled-back attempt does not count as applied', () => {
    const plan = planMigrations([a], [record(a, { finished_at: null, rolled_back_at: new Date() })]);
    assert.deepEqual(plan.pending.map((m) => m.name), [a.name]);
  });

  test('a failed migration that was not rolled back stops everything', () => {
    assert.throws(
      () => planMigrations([a, b], [record(a, { finished_at: null, logs: 'boom' })]),
      (e: unknown) => e instanceof MigrationError && e.code === 'FAILED_MIGRATION' && /boom/.test(e.message),
    );
  });

  test('an applied file whose checksum changed stops everything', () => {
    assert.throws(
      () => planMigrations([a, b], [record(a, { checksum: checksumOf('something else') })]),
      (e: unknown) => e instanceof MigrationError && e.code === 'CHECKSUM_MISMATCH' && e.migrationName === a.name,
    );
  });
});

describe('readMigrations', () => {
  test('reads folders in name order with sha256 checksums', async () => {
    const dir = migrationsFolder({ '20260102000000_b': 'B;', '20260101000000_a': 'A;' });
    const found = await readMigrations(dir);
    assert.deepEqual(found.map((m) => m.name), ['20260101000000_a', '20260102000000_b']);
    assert.equal(found[0]?.checksum, createHash('sha256').update('A;').digest('hex'));
  });

  test('a folder without migration.sql is an error', async () => {
    const dir = migrationsFolder({ '20260101000000_a': 'A;' });
    mkdirSync(path.join(dir, '20260102000000_empty'));
    await rejectsWith(readMigrations(dir), 'MISSING_MIGRATION_FILE');
  });

  test('the committed migrations exist for both providers, with the same names', async () => {
    const sqlite = (await readMigrations(migrationsDirFor('sqlite'))).map((m) => m.name);
    const postgres = (await readMigrations(migrationsDirFor('postgresql'))).map((m) => m.name);
    assert.ok(sqlite.length > 0);
    assert.deepEqual(sqlite, postgres);
  });
});

for (const provider of PROVIDERS) {
  describe(`migrate on ${provider}`, () => {
    if (provider === 'postgresql') {
      before(async () => {
        // Fail with a clear message rather than a timeout when the server is absent.
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        await client.end();
      });
    }

    test('a fresh database gets every committed migration, recorded as Prisma records them', async () => {
      const db = freshDb(provider);
      const committed = await readMigrations(migrationsDirFor(provider));
      const result = await migrate(db.url);
      assert.equal(result.provider, provider);
      assert.deepEqual(result.applied, committed.map((m) => m.name));

      const tables = await db.tables();
      for (const table of [...MODEL_TABLES, '_prisma_migrations']) assert.ok(tables.includes(table), `${table} missing`);

      const rows = await db.query('SELECT * FROM "_prisma_migrations" ORDER BY "migration_name"');
      assert.equal(rows.length, committed.length);
      for (const [i, row] of rows.entries()) {
        const name = committed[i]!.name;
        const file = readFileSync(path.join(migrationsDirFor(provider), name, 'migration.sql'));
        assert.equal(row.migration_name, name);
        assert.equal(row.checksum, createHash('sha256').update(file).digest('hex'));
        assert.match(String(row.id), UUID);
        assert.notEqual(row.finished_at, null);
        assert.equal(row.rolled_back_at, null);
        assert.equal(row.logs, null);
        assert.equal(Number(row.applied_steps_count), 1);
        assert.ok(new Date(String(row.finished_at as string | Date)) >= new Date(String(row.started_at as string | Date)));
      }

      const again = await migrate(db.url);
      assert.deepEqual(again.applied, []);
      assert.equal((await db.query('SELECT * FROM "_prisma_migrations"')).length, committed.length);
    });

    test('a migration edited after it was applied stops start-up', async () => {
      const db = freshDb(provider);
      const dir = migrationsFolder({
        '20260101000000_one': 'CREATE TABLE "one" ("id" INTEGER PRIMARY KEY);',
        '20260102000000_two': 'CREATE TABLE "two" ("id" INTEGER PRIMARY KEY);',
      });
      assert.equal((await migrate(db.url, { migrationsDir: dir })).applied.length, 2);
      appendFileSync(path.join(dir, '20260102000000_two', 'migration.sql'), '\n-- edited');
      mkdirSync(path.join(dir, '20260103000000_three'));
      writeFileSync(path.join(dir, '20260103000000_three', 'migration.sql'), 'CREATE TABLE "three" ("id" INTEGER PRIMARY KEY);');

      const err = await rejectsWith(migrate(db.url, { migrationsDir: dir }), 'CHECKSUM_MISMATCH');
      assert.equal(err.migrationName, '20260102000000_two');
      assert.ok(!(await db.tables()).includes('three'), 'nothing after the refusal is applied');
    });

    test('a failed migration left by another tool (not rolled back) stops start-up', async () => {
      const db = freshDb(provider);
      const dir = migrationsFolder({ '20260101000000_one': 'CREATE TABLE "one" ("id" INTEGER PRIMARY KEY);' });
      await migrate(db.url, { migrationsDir: dir });
      // What `prisma migrate deploy` leaves when a script fails half-way.
      const insert = `INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "logs", "started_at", "applied_steps_count")
                      VALUES ('00000000-0000-4000-8000-000000000000', 'abc', '20260102000000_two', 'syntax error', ${provider === 'sqlite' ? "'2026-01-01T00:00:00.000+00:00'" : 'now()'}, 0)`;
      if (provider === 'sqlite') {
        const raw = new BetterSqlite3(db.url.slice('file:'.length));
        raw.exec(insert);
        raw.close();
      } else {
        await db.query(insert);
      }
      mkdirSync(path.join(dir, '20260102000000_two'));
      writeFileSync(path.join(dir, '20260102000000_two', 'migration.sql'), 'CREATE TABLE "two" ("id" INTEGER PRIMARY KEY);');
      const err = await rejectsWith(migrate(db.url, { migrationsDir: dir }), 'FAILED_MIGRATION');
      assert.match(err.message, /syntax error/);
      assert.ok(!(await db.tables()).includes('two'));
    });

    test('a migration that fails is rolled back whole, recorded as rolled back, and retried once fixed', async () => {
      const db = freshDb(provider);
      const dir = migrationsFolder({
        '20260101000000_one': 'CREATE TABLE "one" ("id" INTEGER PRIMARY KEY);',
        '20260102000000_two': 'CREATE TABLE "two" ("id" INTEGER PRIMARY KEY);\nINSERT INTO "missing" VALUES (1);',
      });
      const err = await rejectsWith(migrate(db.url, { migrationsDir: dir }), 'MIGRATION_FAILED');
      assert.equal(err.migrationName, '20260102000000_two');
      const tables = await db.tables();
      assert.ok(tables.includes('one'), 'the earlier migration stays applied');
      assert.ok(!tables.includes('two'), 'the failed script left nothing behind');
      const attempt = await db.query(`SELECT * FROM "_prisma_migrations" WHERE "migration_name" = '20260102000000_two'`);
      assert.equal(attempt.length, 1);
      assert.equal(attempt[0]!.finished_at, null);
      assert.notEqual(attempt[0]!.rolled_back_at, null);
      assert.match(String(attempt[0]!.logs), /missing/);

      writeFileSync(path.join(dir, '20260102000000_two', 'migration.sql'), 'CREATE TABLE "two" ("id" INTEGER PRIMARY KEY);');
      assert.deepEqual((await migrate(db.url, { migrationsDir: dir })).applied, ['20260102000000_two']);
      assert.ok((await db.tables()).includes('two'));
    });

    test('a migrator kept waiting by another one gives up with a clear error', async () => {
      const db = freshDb(provider);
      await migrate(db.url);
      // Another process holding the lock: Prisma's advisory lock / SQLite's write lock.
      let release: () => Promise<void>;
      if (provider === 'sqlite') {
        const holder = new BetterSqlite3(db.url.slice('file:'.length));
        holder.exec('BEGIN IMMEDIATE');
        release = async () => {
          holder.exec('ROLLBACK');
          holder.close();
        };
      } else {
        const holder = new pg.Client({ connectionString: PG_URL });
        await holder.connect();
        await holder.query('SELECT pg_advisory_lock(72707369)');
        release = () => holder.end();
      }
      try {
        await rejectsWith(migrate(db.url, { lockTimeoutMs: 200 }), 'LOCK_TIMEOUT');
      } finally {
        await release();
      }
      assert.deepEqual((await migrate(db.url, { lockTimeoutMs: 200 })).applied, []);
    });

    test('several processes starting at once apply each migration exactly once', async () => {
      const db = freshDb(provider);
      const migrations: Record<string, string> = {};
      for (let i = 1; i <= 5; i++) {
        migrations[`2026010${i}000000_m${i}`] =
          `CREATE TABLE "t${i}" ("id" INTEGER PRIMARY KEY, "v" TEXT);\nINSERT INTO "t${i}" ("id", "v") VALUES (1, 'x');`;
      }
      const dir = migrationsFolder(migrations);
      const results = await runConcurrently(3, db.url, dir);
      const applied = results.flat().sort();
      assert.deepEqual(applied, Object.keys(migrations).sort(), 'each migration applied by exactly one process');
      const rows = await db.query('SELECT "migration_name" FROM "_prisma_migrations" WHERE "finished_at" IS NOT NULL');
      assert.equal(rows.length, 5);
      for (let i = 1; i <= 5; i++) assert.equal((await db.query(`SELECT * FROM "t${i}"`)).length, 1);
    });
  });
}

describe('migrate on sqlite: table redefinitions', () => {
  test('rebuilding a parent table does not cascade-delete its children', async () => {
    const db = freshDb('sqlite');
    const dir = migrationsFolder({
      '20260101000000_init': `CREATE TABLE "Parent" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT);
CREATE TABLE "Child" ("id" TEXT NOT NULL PRIMARY KEY, "parentId" TEXT NOT NULL,
  CONSTRAINT "Child_parentId_fkey" FOREIGN KEY ("parentId") REFERENCES "Parent" ("id") ON DELETE CASCADE ON UPDATE CASCADE);
INSERT INTO "Parent" VALUES ('p', 'n');
INSERT INTO "Child" VALUES ('c', 'p');`,
      // The shape Prisma generates for SQLite column changes.
      '20260102000000_redefine': `-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Parent" ("id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL DEFAULT '');
INSERT INTO "new_Parent" ("id", "name") SELECT "id", coalesce("name", '') FROM "Parent";
DROP TABLE "Parent";
ALTER TABLE "new_Parent" RENAME TO "Parent";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;`,
    });
    assert.equal((await migrate(db.url, { migrationsDir: dir })).applied.length, 2);
    assert.deepEqual(await db.query('SELECT * FROM "Child"'), [{ id: 'c', parentId: 'p' }]);
  });

  test('a migration that breaks a foreign key is refused and rolled back', async () => {
    const db = freshDb('sqlite');
    const dir = migrationsFolder({
      '20260101000000_init': `CREATE TABLE "Parent" ("id" TEXT NOT NULL PRIMARY KEY);
CREATE TABLE "Child" ("id" TEXT NOT NULL PRIMARY KEY, "parentId" TEXT NOT NULL REFERENCES "Parent" ("id"));`,
      '20260102000000_orphan': `INSERT INTO "Child" VALUES ('c', 'nobody');`,
    });
    const err = await rejectsWith(migrate(db.url, { migrationsDir: dir }), 'MIGRATION_FAILED');
    assert.match(err.message, /foreign key/);
    assert.deepEqual(await db.query('SELECT * FROM "Child"'), []);
  });
});

/**
 * Starts `count` processes that each call migrate() on the same database. They
 * signal when loaded and wait for "go" on stdin, so they really start together.
 */
async function runConcurrently(count: number, url: string, migrationsDir: string): Promise<string[][]> {
  const code = `
    const { migrate } = await import(${JSON.stringify(path.join(repoRoot, 'src/db/migrator.ts'))});
    process.stdout.write('ready\\n');
    await new Promise((resolve) => process.stdin.once('data', resolve));
    process.stdin.destroy();
    const result = await migrate(process.env.DB_URL, { migrationsDir: process.env.MIGRATIONS_DIR });
    process.stdout.write(JSON.stringify(result.applied) + '\\n');
  `;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: repoRoot,
      env: { ...process.env, DB_URL: url, MIGRATIONS_DIR: migrationsDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  );
  const outputs = children.map((child) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const ready = new Promise<void>((resolve, reject) => {
      const onData = (): void => {
        if (stdout.includes('ready\n')) {
          child.stdout.off('data', onData);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', () => reject(new Error(`child exited before ready: ${stderr}`)));
    });
    // Never rejects, so a child failing before "go" cannot become an unhandled rejection.
    const done = new Promise<{ exitCode: number | null }>((resolve) => child.once('exit', (exitCode) => resolve({ exitCode })));
    const applied = async (): Promise<string[]> => {
      const { exitCode } = await done;
      assert.equal(exitCode, 0, `migrator process failed: ${stderr}`);
      return JSON.parse(stdout.trim().split('\n').at(-1) ?? '[]') as string[];
    };
    return { ready, applied };
  });
  try {
    await Promise.all(outputs.map((o) => o.ready));
    for (const child of children) child.stdin.end('go\n');
    return await Promise.all(outputs.map((o) => o.applied()));
  } finally {
    // Children still waiting for "go" after a failure would otherwise wait forever.
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}
