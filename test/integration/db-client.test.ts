/**
 * openDatabase with real SQLite files and the local PostgreSQL (a unique schema
 * per run, dropped afterwards): provider selection, preparation, migrations,
 * Prisma reads and writes across relations, and a clean close.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { DatabaseUrlError, openDatabase, type Database } from '../../src/db/client.ts';
import { parseDatabaseUrl, redactUrl } from '../../src/db/url.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'maskwatch-db-client-'));
const schemas: string[] = [];
const logger = pino({ level: 'silent' });

after(async () => {
  rmSync(tmpRoot, { recursive: true, force: true });
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

function uniqueSchema(): string {
  const schema = `mw_client_${process.pid}_${randomBytes(4).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

async function pgQuery(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}

describe('parseDatabaseUrl', () => {
  test('file: URLs are SQLite, relative paths resolved against the given folder', () => {
    assert.deepEqual(parseDatabaseUrl('file:./data/x.db', '/srv/app'), { provider: 'sqlite', filename: '/srv/app/data/x.db' });
    assert.deepEqual(parseDatabaseUrl('file:/var/x.db'), { provider: 'sqlite', filename: '/var/x.db' });
    assert.deepEqual(parseDatabaseUrl('file:///var/x.db'), { provider: 'sqlite', filename: '/var/x.db' });
  });

  test('postgres URLs keep everything but ?schema=, which defaults to public', () => {
    assert.deepEqual(parseDatabaseUrl('postgresql://u:p@h:5433/db?schema=s1&sslmode=disable'), {
      provider: 'postgresql',
      connectionString: 'postgresql://u:p@h:5433/db?sslmode=disable',
      schema: 's1',
    });
    assert.equal((parseDatabaseUrl('postgres://h/db') as { schema: string }).schema, 'public');
  });

  test('bad input gets a clear error', () => {
    assert.throws(() => parseDatabaseUrl(''), DatabaseUrlError);
    assert.throws(() => parseDatabaseUrl('mysql://h/db'), /unsupported database URL scheme "mysql:"/);
    assert.throws(() => parseDatabaseUrl('file:'), /no file path/);
    assert.throws(() => parseDatabaseUrl('postgresql://h/db?schema=a;drop'), /schema name/);
  });

  test('passwords are redacted for logs', () => {
    assert.equal(redactUrl('postgresql://user:secret@h/db'), 'postgresql://user:***@h/db');
  });
});

/** Camera → Alert (with nested Violations) → read back through relations. */
async function exerciseRelations(db: Database): Promise<void> {
  const { prisma } = db;
  const camera = await prisma.camera.create({
    data: { name: 'Main St / 5th', latitude: 40.7, longitude: -74, zone: 'north', apiKeyHash: randomBytes(32).toString('hex'), apiKeyHint: 'ab12' },
  });
  assert.equal(camera.enabled, true);
  assert.ok(camera.createdAt instanceof Date);

  const seenAt = new Date('2026-11-28T10:00:00.123Z');
  const alert = await prisma.alert.create({
    data: {
      cameraId: camera.id,
      trackId: 'track-1',
      firstSeenAt: seenAt,
      lastSeenAt: seenAt,
      noMaskProbability: 0.08,
      violationCount: 2,
      violations: {
        create: [0, 1].map((faceIndex) => ({
          cameraId: camera.id,
          frameId: 'frame-1',
          faceIndex,
          capturedAt: seenAt,
          receivedAt: seenAt,
          boxX: 10,
          boxY: 20,
          boxW: 30,
          boxH: 40,
          faceScore: 0.9,
          noMaskProbability: 0.08,
        })),
      },
    },
  });
  assert.equal(alert.status, 'NEW');

  const loaded = await prisma.alert.findFirstOrThrow({
    where: { status: { in: ['NEW', 'DISPATCHED'] }, camera: { zone: 'north' } },
    include: { camera: true, violations: { orderBy: { faceIndex: 'asc' } } },
  });
  assert.equal(loaded.id, alert.id);
  assert.equal(loaded.camera.name, 'Main St / 5th');
  assert.deepEqual(loaded.violations.map((v) => v.faceIndex), [0, 1]);
  assert.equal(loaded.violations[0]!.capturedAt.toISOString(), seenAt.toISOString(), 'DateTime keeps milliseconds');
  assert.equal(await prisma.violation.count({ where: { alertId: alert.id } }), 2);

  // The (frameId, faceIndex) unique key is what makes a retried job a no-op.
  await assert.rejects(
    prisma.violation.create({
      data: { cameraId: camera.id, frameId: 'frame-1', faceIndex: 0, capturedAt: seenAt, receivedAt: seenAt, boxX: 0, boxY: 0, boxW: 1, boxH: 1, faceScore: 1, noMaskProbability: 0 },
    }),
    (e: unknown) => (e as { code?: string }).code === 'P2002',
  );

  const updated = await prisma.alert.update({ where: { id: alert.id }, data: { status: 'DISPATCHED', dispatchedAt: new Date() } });
  assert.equal(updated.status, 'DISPATCHED');

  // Foreign keys are enforced with their actions: deleting the camera cascades.
  await prisma.camera.delete({ where: { id: camera.id } });
  assert.equal(await prisma.alert.count(), 0);
  assert.equal(await prisma.violation.count(), 0);
}

describe('openDatabase on SQLite', () => {
  test('creates the folder, migrates, uses WAL, and reads/writes across relations', async () => {
    const file = path.join(tmpRoot, 'nested', 'deeper', 'maskwatch.db');
    const db = await openDatabase(`file:${file}`, { logger });
    try {
      assert.equal(db.provider, 'sqlite');
      assert.ok(existsSync(file));
      await exerciseRelations(db);
    } finally {
      await db.close();
    }
    const raw = new BetterSqlite3(file, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      assert.ok((raw.prepare('SELECT count(*) AS n FROM "_prisma_migrations"').get() as { n: number }).n > 0);
    } finally {
      raw.close();
    }
  });

  test('a second process-like open of the same file skips migrations and sees the data', async () => {
    const url = `file:${path.join(tmpRoot, 'shared.db')}`;
    const api = await openDatabase(url, { logger });
    const worker = await openDatabase(url, { logger });
    try {
      await api.prisma.patrolUnit.create({ data: { callSign: 'P-1' } });
      assert.equal((await worker.prisma.patrolUnit.findUniqueOrThrow({ where: { callSign: 'P-1' } })).status, 'AVAILABLE');
    } finally {
      await Promise.all([api.close(), worker.close()]);
    }
  });

  test('migrate: false opens without touching the schema', async () => {
    const db = await openDatabase(`file:${path.join(tmpRoot, 'bare.db')}`, { logger, migrate: false });
    try {
      await assert.rejects(db.prisma.camera.count(), (e: unknown) => (e as { code?: string }).code === 'P2021');
    } finally {
      await db.close();
    }
  });

  test('close is idempotent', async () => {
    const db = await openDatabase(`file:${path.join(tmpRoot, 'twice.db')}`, { logger });
    await db.close();
    await db.close();
  });

  test('an unsupported URL or an in-memory database is refused before anything is opened', async () => {
    await assert.rejects(openDatabase('mysql://localhost/x'), DatabaseUrlError);
    await assert.rejects(openDatabase('file::memory:'), /in-memory SQLite/);
  });
});

describe('SQLite shared by several processes', () => {
  test('read-then-write transactions from concurrent processes all succeed, with no lost update', async () => {
    const url = `file:${path.join(tmpRoot, 'contended.db')}`;
    const setup = await openDatabase(url, { logger });
    const camera = await setup.prisma.camera.create({
      data: { name: 'c', latitude: 0, longitude: 0, apiKeyHash: randomBytes(8).toString('hex'), apiKeyHint: 'x' },
    });
    const now = new Date();
    const alert = await setup.prisma.alert.create({
      data: { cameraId: camera.id, trackId: 't', firstSeenAt: now, lastSeenAt: now, noMaskProbability: 0.1 },
    });
    await setup.close();

    const perProcess = 40;
    const code = `
      const { openDatabase } = await import(${JSON.stringify(path.join(repoRoot, 'src/db/client.ts'))});
      const db = await openDatabase(process.env.DB_URL);
      process.stdout.write('ready\\n');
      await new Promise((resolve) => process.stdin.once('data', resolve));
      process.stdin.destroy();
      for (let i = 0; i < ${perProcess}; i++) {
        // Read, then write what was read + 1: the pattern a worker uses to group violations.
        await db.prisma.$transaction(async (tx) => {
          const a = await tx.alert.findUniqueOrThrow({ where: { id: process.env.ALERT_ID } });
          await tx.alert.update({ where: { id: a.id }, data: { violationCount: a.violationCount + 1, lastSeenAt: new Date() } });
        });
      }
      await db.close();
    `;
    const children = Array.from({ length: 3 }, () =>
      spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        cwd: repoRoot,
        env: { ...process.env, DB_URL: url, ALERT_ID: alert.id },
      }),
    );
    const finished = children.map((child) => {
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const ready = new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('ready\n')) resolve();
        });
        child.once('exit', () => reject(new Error(`child exited before ready: ${stderr}`)));
      });
      const exit = new Promise<{ exitCode: number | null; stderr: string }>((resolve) =>
        child.once('exit', (exitCode) => resolve({ exitCode, stderr })),
      );
      return { ready, exit };
    });
    try {
      await Promise.all(finished.map((f) => f.ready));
      for (const child of children) child.stdin.end('go\n');
      for (const { exitCode, stderr } of await Promise.all(finished.map((f) => f.exit))) assert.equal(exitCode, 0, stderr);
    } finally {
      // Children still waiting for "go" after a failure would otherwise wait forever.
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
    }

    const check = await openDatabase(url, { logger });
    try {
      assert.equal((await check.prisma.alert.findUniqueOrThrow({ where: { id: alert.id } })).violationCount, 3 * perProcess);
    } finally {
      await check.close();
    }
  });
});

describe('openDatabase on PostgreSQL', () => {
  test('creates and migrates the ?schema= schema, and reads/writes across relations there', async () => {
    const schema = uniqueSchema();
    const db = await openDatabase(`${PG_URL}?schema=${schema}`, { logger });
    try {
      assert.equal(db.provider, 'postgresql');
      await exerciseRelations(db);
      const tables = await pgQuery('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [schema]);
      const names = tables.map((r) => r.table_name);
      for (const t of ['Camera', 'Violation', 'Alert', '_prisma_migrations']) assert.ok(names.includes(t), `${t} not in ${schema}`);
      // Enum types live in the schema too, and Prisma's enum casts resolve there.
      const enums = await pgQuery(
        "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typtype = 'e'",
        [schema],
      );
      assert.deepEqual(enums.map((r) => r.typname).sort(), ['AlertStatus', 'Role', 'UnitStatus']);
    } finally {
      await db.close();
    }
  });

  test('two schemas in one database are independent', async () => {
    const [a, b] = [uniqueSchema(), uniqueSchema()];
    const dbA = await openDatabase(`${PG_URL}?schema=${a}`, { logger });
    const dbB = await openDatabase(`${PG_URL}?schema=${b}`, { logger });
    try {
      await dbA.prisma.patrolUnit.create({ data: { callSign: 'A-1' } });
      assert.equal(await dbA.prisma.patrolUnit.count(), 1);
      assert.equal(await dbB.prisma.patrolUnit.count(), 0);
    } finally {
      await Promise.all([dbA.close(), dbB.close()]);
    }
  });

  test('migrate: false creates the schema but no tables', async () => {
    const schema = uniqueSchema();
    const db = await openDatabase(`${PG_URL}?schema=${schema}`, { logger, migrate: false });
    try {
      assert.equal((await pgQuery('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).length, 1);
      await assert.rejects(db.prisma.camera.count(), (e: unknown) => (e as { code?: string }).code === 'P2021');
    } finally {
      await db.close();
    }
  });
});

describe('close', () => {
  test('leaves no handles open: a process that opens and closes both providers exits by itself', async () => {
    const schema = uniqueSchema();
    const code = `
      const { openDatabase } = await import(${JSON.stringify(path.join(repoRoot, 'src/db/client.ts'))});
      for (const url of process.env.URLS.split(' ')) {
        const db = await openDatabase(url);
        await db.prisma.camera.count();
        await db.close();
      }
      // Handles still alive now would keep the process running after this line.
      process.stdout.write(JSON.stringify(process.getActiveResourcesInfo()));
    `;
    const urls = [`file:${path.join(tmpRoot, 'handles.db')}`, `${PG_URL}?schema=${schema}`];
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: repoRoot,
      env: { ...process.env, URLS: urls.join(' ') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(exitCode, 0, stderr);
    const resources = JSON.parse(stdout) as string[];
    // Only the child's own stdio pipes may remain: no sockets, no timers.
    assert.deepEqual(resources.filter((r) => r !== 'PipeWrap' && r !== 'TTYWrap'), []);
  });
});
