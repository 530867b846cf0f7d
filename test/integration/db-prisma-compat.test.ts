/**
 * Our migrations and bookkeeping checked against Prisma's own schema engine
 * (@prisma/schema-engine-wasm, the engine `prisma migrate` runs):
 * - the committed migrations produce exactly the schema in prisma/models.prisma;
 * - `npm run db:migration` authors a new migration for both providers;
 * - a database migrated by us is "up to date" for Prisma, and one migrated by
 *   Prisma is up to date for us.
 * The engine runs in child processes: it leaves a 10 s timer behind when freed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PROVIDERS, migrate, prismaDir, readMigrations } from '../../src/db/migrator.ts';
import type { Provider } from '../../src/db/url.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const PG_URL = process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'maskwatch-db-compat-'));
const databases: string[] = [];
const schemas: string[] = [];

after(async () => {
  rmSync(tmpRoot, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const db of databases) await client.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

function uniqueName(tag: string): string {
  return `mw_${tag}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** The engine reads a whole database (not a schema), so PostgreSQL checks get a throw-away database. */
async function temporaryDatabase(): Promise<string> {
  const name = uniqueName('compat');
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`CREATE DATABASE "${name}"`);
  await client.end();
  databases.push(name);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A copy of prisma/ (schema files, models, migrations) that a test may change. */
function prismaCopy(): string {
  const dir = path.join(tmpRoot, uniqueName('prisma'));
  cpSync(prismaDir, dir, { recursive: true, dereference: true });
  return dir;
}

/**
 * Runs Prisma's engine against a database in a child process: `diagnose` asks it
 * what it thinks of the migration history, `apply` makes it apply the migrations.
 */
async function prismaEngine(
  action: 'diagnose' | 'apply',
  provider: Provider,
  url: string,
): Promise<Record<string, unknown>> {
  const code = `
    const script = await import(${JSON.stringify(path.join(repoRoot, 'scripts/author-migration.ts'))});
    const { readMigrations, migrationsDirFor } = await import(${JSON.stringify(path.join(repoRoot, 'src/db/migrator.ts'))});
    const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const provider = process.env.PROVIDER, url = process.env.DB_URL;
    script.readCharColumnsAsText();
    const SchemaEngine = await script.loadSchemaEngine();
    const dir = migrationsDirFor(provider);
    const migrationsList = script.migrationList(dir, await readMigrations(dir), script.lockFileContent(provider));
    const factory = provider === 'sqlite' ? new PrismaBetterSqlite3({ url }) : new PrismaPg({ connectionString: url });
    const engine = await SchemaEngine.new({ datamodels: undefined }, () => {}, bindMigrationAwareSqlAdapterFactory(factory));
    const filters = { externalTables: [], externalEnums: [] };
    const out = process.env.ACTION === 'apply'
      ? await engine.applyMigrations({ migrationsList, filters })
      : await engine.diagnoseMigrationHistory({ migrationsList, optInToShadowDatabase: false, filters });
    process.stdout.write(JSON.stringify(out));
    process.exit(0);
  `;
  const result = await run(['--input-type=module', '-e', code], { PROVIDER: provider, DB_URL: url, ACTION: action });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe('migrations vs prisma/models.prisma', () => {
  test('the committed migrations produce exactly the models (db:migration --check)', async () => {
    const result = await run(['scripts/author-migration.ts', '--check']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /No changes/);
  });

  test('a changed model is caught by --check, and db:migration writes the same migration for both providers', async () => {
    const root = prismaCopy();
    appendFileSync(
      path.join(root, 'models.prisma'),
      `\nmodel Webhook {\n  id        String   @id @default(uuid())\n  url       String\n  enabled   Boolean  @default(true)\n  createdAt DateTime @default(now())\n}\n`,
    );
    const check = await run(['scripts/author-migration.ts', '--check', '--prisma-dir', root]);
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /CREATE TABLE "Webhook"/);

    const authored = await run(['scripts/author-migration.ts', 'add_webhooks', '--prisma-dir', root]);
    assert.equal(authored.code, 0, authored.stderr);
    const newNames: string[] = [];
    for (const provider of PROVIDERS) {
      const names = readdirSync(path.join(root, provider, 'migrations')).filter((n) => n.endsWith('_add_webhooks'));
      assert.equal(names.length, 1, `${provider}: one new migration folder`);
      newNames.push(names[0]!);
      const sql = readFileSync(path.join(root, provider, 'migrations', names[0]!, 'migration.sql'), 'utf8');
      assert.match(sql, /-- CreateTable\nCREATE TABLE "Webhook"/);
      assert.doesNotMatch(sql, /"Camera"/, 'only the change, not the whole schema');
    }
    assert.equal(newNames[0], newNames[1], 'both providers use the same folder name');
    assert.equal((await run(['scripts/author-migration.ts', '--check', '--prisma-dir', root])).code, 0);

    // The authored SQL applies with our migrator on both providers.
    const sqliteFile = path.join(tmpRoot, `${uniqueName('authored')}.db`);
    const sqlite = await migrate(`file:${sqliteFile}`, { migrationsDir: path.join(root, 'sqlite', 'migrations') });
    assert.ok(sqlite.applied.includes(newNames[0]!));
    const schema = uniqueName('authored');
    schemas.push(schema);
    const postgres = await migrate(`${PG_URL}?schema=${schema}`, { migrationsDir: path.join(root, 'postgresql', 'migrations') });
    assert.ok(postgres.applied.includes(newNames[0]!));
  });

  test('an invalid migration name is refused', async () => {
    const result = await run(['scripts/author-migration.ts', 'Bad-Name']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /usage/);
  });
});

for (const provider of PROVIDERS) {
  describe(`_prisma_migrations compatibility on ${provider}`, () => {
    const freshUrl = async (): Promise<string> =>
      provider === 'sqlite' ? `file:${path.join(tmpRoot, `${uniqueName('engine')}.db`)}` : temporaryDatabase();

    test('a database migrated by us is up to date for Prisma', async () => {
      const url = await freshUrl();
      await migrate(url);
      const diagnosis = await prismaEngine('diagnose', provider, url);
      assert.deepEqual(diagnosis, { editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
      assert.deepEqual(await prismaEngine('apply', provider, url), { appliedMigrationNames: [] });
    });

    test('a database migrated by Prisma is up to date for us', async () => {
      const url = await freshUrl();
      const committed = (await readMigrations(path.join(prismaDir, provider, 'migrations'))).map((m) => m.name);
      assert.deepEqual(await prismaEngine('apply', provider, url), { appliedMigrationNames: committed });
      assert.deepEqual((await migrate(url)).applied, []);
    });

    test('Prisma sees a file we applied and then edited as edited', async () => {
      const url = await freshUrl();
      await migrate(url);
      // Prisma's engine reads the committed folder; emulate the edit by changing the recorded checksum.
      const bad = '0'.repeat(64);
      if (provider === 'sqlite') {
        const { default: BetterSqlite3 } = await import('better-sqlite3');
        const db = new BetterSqlite3(url.slice('file:'.length));
        db.prepare('UPDATE "_prisma_migrations" SET "checksum" = ?').run(bad);
        db.close();
      } else {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query('UPDATE "_prisma_migrations" SET "checksum" = $1', [bad]);
        await client.end();
      }
      const diagnosis = await prismaEngine('diagnose', provider, url);
      assert.ok((diagnosis.editedMigrationNames as string[]).length > 0);
      await assert.rejects(migrate(url), (e: unknown) => (e as { code?: string }).code === 'CHECKSUM_MISMATCH');
    });
  });
}
