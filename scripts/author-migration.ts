/**
 * Authors a new migration for BOTH providers from prisma/models.prisma:
 *
 *   npm run db:migration -- <name> [--draft]
 *
 * Prisma's CLI `migrate dev` needs a native schema engine that cannot be
 * downloaded here, so this drives the same engine compiled to wasm
 * (@prisma/schema-engine-wasm, pinned to the client's engine version) through
 * the driver adapters. Per provider it replays the committed migrations into a
 * throw-away shadow database, diffs the result against the models and writes
 * prisma/<provider>/migrations/<timestamp>_<name>/migration.sql, exactly as
 * `prisma migrate dev --create-only` would. SQLite uses in-memory databases;
 * PostgreSQL uses temporary databases on DATABASE_AUTHOR_URL (default
 * postgresql://postgres@127.0.0.1:5432/postgres), dropped afterwards.
 *
 * --draft writes a migration even when the models did not change (for data
 *   migrations written by hand).
 * --prisma-dir DIR works on another copy of prisma/ (tests).
 * --check writes nothing and exits 1 when the models have changes no migration
 *   covers (for CI: `npm run db:migration -- --check`).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import type { MigrationList, SchemaEngine as SchemaEngineType } from '@prisma/schema-engine-wasm';
import { PROVIDERS, prismaDir, readMigrations, type Migration } from '../src/db/migrator.ts';
import type { Provider } from '../src/db/url.ts';

const NAME = /^[a-z0-9_]{1,200}$/;

/** Loads the wasm schema engine by hand: Node 20 cannot `import` a .wasm file. */
export async function loadSchemaEngine(): Promise<typeof SchemaEngineType> {
  const require = createRequire(import.meta.url);
  const jsPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bg = await import(jsPath);
  const bytes = await readFile(path.join(path.dirname(jsPath), 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  (instance.exports.__wbindgen_start as () => void)();
  return bg.SchemaEngine as typeof SchemaEngineType;
}

/**
 * The engine must be the build the client was released with (same SQL for the
 * same models); after upgrading @prisma/client, pin @prisma/schema-engine-wasm
 * to the client's @prisma/engines-version.
 */
async function assertEngineMatchesClient(): Promise<void> {
  const modules = path.join(path.dirname(prismaDir), 'node_modules', '@prisma');
  const read = async (pkg: string): Promise<Record<string, unknown>> =>
    JSON.parse(await readFile(path.join(modules, pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
  const client = await read('client');
  const engine = await read('schema-engine-wasm');
  const deps = { ...(client.devDependencies as object), ...(client.dependencies as object) } as Record<string, string>;
  // The client's own wasm query compiler carries the engines build it ships with.
  const wanted = deps['@prisma/query-compiler-wasm'] ?? deps['@prisma/engines-version'];
  if (wanted && wanted !== engine.version) {
    throw new Error(
      `@prisma/schema-engine-wasm ${String(engine.version)} does not match @prisma/client ${String(client.version)} ` +
        `(engines ${wanted}): run npm install --save-dev --save-exact @prisma/schema-engine-wasm@${wanted}`,
    );
  }
}

/**
 * @prisma/adapter-pg 7.10 rejects the single-byte "char" type (OID 18) that the
 * engine's catalog queries return (pg_class.relkind, ...). Its values arrive as
 * text anyway, so in this authoring process report them as text (OID 25).
 */
export function readCharColumnsAsText(): void {
  const Result = (pg as unknown as { Result: { prototype: { addFields(fields: { dataTypeID: number }[]): void } } })
    .Result;
  const addFields = Result.prototype.addFields;
  Result.prototype.addFields = function (fields) {
    addFields.call(
      this,
      fields.map((f) => (f.dataTypeID === 18 ? { ...f, dataTypeID: 25 } : f)),
    );
  };
}

/**
 * A PostgreSQL adapter factory whose main and shadow databases are fresh
 * temporary databases we create and drop ourselves: the stock PrismaPg shadow
 * database drops itself while its own pool is still connected, and keeps the
 * URL's database name when given a connection string.
 */
class TemporaryPostgres implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres' as const;
  readonly adapterName = '@prisma/adapter-pg';
  private readonly created: string[] = [];
  private readonly adapters: SqlDriverAdapter[] = [];

  constructor(private readonly adminUrl: string) {}

  private async createDatabase(): Promise<SqlDriverAdapter> {
    const name = `maskwatch_author_${crypto.randomUUID().replaceAll('-', '')}`;
    const admin = new pg.Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    this.created.push(name);
    const url = new URL(this.adminUrl);
    url.pathname = `/${name}`;
    const adapter = await new PrismaPg({ connectionString: url.toString() }).connect();
    this.adapters.push(adapter);
    return adapter;
  }

  connect(): Promise<SqlDriverAdapter> {
    return this.createDatabase();
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    return this.createDatabase();
  }

  async dispose(): Promise<void> {
    // The engine may already have disposed them; a second end() only complains.
    for (const adapter of this.adapters) await adapter.dispose().catch(() => {});
    const admin = new pg.Client({ connectionString: this.adminUrl });
    await admin.connect();
    try {
      for (const name of this.created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}

/**
 * The engine replays migration files on the shadow database with executeRaw,
 * which better-sqlite3 limits to one statement; run such scripts with
 * executeScript (sqlite3_exec) instead.
 */
function acceptMultiStatementScripts(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const executeRaw = adapter.executeRaw.bind(adapter);
  adapter.executeRaw = async (query) => {
    try {
      return await executeRaw(query);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause ?? err;
      if (query.args.length > 0 || !String((cause as Error)?.message).includes('more than one statement')) throw err;
      await adapter.executeScript(query.sql);
      return 0;
    }
  };
  return adapter;
}

class MemorySqlite implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'sqlite' as const;
  readonly adapterName = '@prisma/adapter-better-sqlite3';
  private readonly factory = new PrismaBetterSqlite3({ url: ':memory:' });
  private readonly adapters: SqlDriverAdapter[] = [];

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = acceptMultiStatementScripts(await this.factory.connect());
    this.adapters.push(adapter);
    return adapter;
  }

  async connectToShadowDb(): Promise<SqlDriverAdapter> {
    const adapter = acceptMultiStatementScripts(await this.factory.connectToShadowDb());
    this.adapters.push(adapter);
    return adapter;
  }

  async dispose(): Promise<void> {
    for (const adapter of this.adapters) await adapter.dispose().catch(() => {});
  }
}

export function migrationList(baseDir: string, migrations: Migration[], lockContent: string | null): MigrationList {
  return {
    baseDir,
    lockfile: { path: 'migration_lock.toml', content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories: migrations.map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
  };
}

export function lockFileContent(provider: Provider): string {
  return (
    '# Please do not edit this file manually\n' +
    '# It should be added in your version-control system (e.g., Git)\n' +
    `provider = "${provider}"\n`
  );
}

/** Prisma's migration folder timestamp: UTC YYYYMMDDHHMMSS. */
export function migrationTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The provider's schema.prisma (generator + datasource) plus the shared models. */
async function schemaFiles(root: string, provider: Provider): Promise<{ path: string; content: string }[]> {
  const files = [path.join(root, provider, 'schema.prisma'), path.join(root, 'models.prisma')];
  return Promise.all(files.map(async (file) => ({ path: file, content: await readFile(file, 'utf8') })));
}

/** Returns the migration script for the models' changes since the committed migrations (null: no change). */
async function diffProvider(
  SchemaEngine: typeof SchemaEngineType,
  root: string,
  provider: Provider,
  name: string,
  draft: boolean,
): Promise<string | null> {
  const dir = path.join(root, provider, 'migrations');
  const migrations = existsSync(dir) ? await readMigrations(dir) : [];
  const lockPath = path.join(dir, 'migration_lock.toml');
  // The engine reads the provider from the lock file; a first migration has none yet.
  const lock = existsSync(lockPath) ? await readFile(lockPath, 'utf8') : lockFileContent(provider);
  const files = await schemaFiles(root, provider);
  const factory =
    provider === 'sqlite'
      ? new MemorySqlite()
      : new TemporaryPostgres(process.env.DATABASE_AUTHOR_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  const log = (line: string): void => {
    if (process.env.DEBUG_SCHEMA_ENGINE) console.error(line);
  };
  const engine = await SchemaEngine.new(
    { datamodels: files.map((f) => [f.path, f.content]) },
    log,
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  const migrationsList = migrationList(dir, migrations, lock);
  const filters = { externalTables: [], externalEnums: [] };
  try {
    // The `prisma migrate dev --create-only` sequence: bring the (empty, temporary)
    // development database up to the committed history, check it is consistent,
    // then diff the models against it.
    await engine.applyMigrations({ migrationsList, filters });
    const diagnostic = await engine.devDiagnostic({ migrationsList, filters });
    if (diagnostic.action.tag === 'reset') {
      throw new Error(`${provider}: committed migrations are inconsistent: ${diagnostic.action.reason}`);
    }
    const out = await engine.createMigration({ draft, migrationName: name, migrationsList, schema: { files }, filters });
    return out.migrationScript;
  } finally {
    engine.free();
    await factory.dispose();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const draft = args.includes('--draft');
  const check = args.includes('--check');
  const rootFlag = args.indexOf('--prisma-dir');
  const root = rootFlag >= 0 ? path.resolve(args[rootFlag + 1] ?? '') : prismaDir;
  const positional = args.filter((a, i) => !a.startsWith('--') && (rootFlag < 0 || i !== rootFlag + 1));
  const name = check ? 'check' : positional[0];
  if (!name || !NAME.test(name)) {
    console.error(
      'usage: npm run db:migration -- <name> [--draft] [--prisma-dir DIR]   (name: lower-case letters, digits, _)\n' +
        '       npm run db:migration -- --check [--prisma-dir DIR]',
    );
    process.exitCode = 2;
    return;
  }
  await assertEngineMatchesClient();
  readCharColumnsAsText();
  const SchemaEngine = await loadSchemaEngine();
  const scripts = new Map<Provider, string | null>();
  for (const provider of PROVIDERS) scripts.set(provider, await diffProvider(SchemaEngine, root, provider, name, draft));
  if ([...scripts.values()].every((s) => s === null)) {
    console.log('No changes in prisma/models.prisma since the last migration: nothing written.');
    return;
  }
  if (check) {
    for (const [provider, sql] of scripts) {
      if (sql !== null) console.log(`-- ${provider}: models.prisma needs a migration:\n${sql}`);
    }
    console.error('prisma/models.prisma has changes no migration covers: run npm run db:migration -- <name>');
    process.exitCode = 1;
    return;
  }
  // One folder name for both providers keeps the two histories aligned.
  const folder = `${migrationTimestamp(new Date())}_${name}`;
  for (const provider of PROVIDERS) {
    const dir = path.join(root, provider, 'migrations');
    const existing = existsSync(dir) ? await readMigrations(dir) : [];
    const last = existing.at(-1);
    if (last && last.name >= folder) throw new Error(`${provider}: new migration ${folder} would sort before ${last.name}`);
    await mkdir(path.join(dir, folder), { recursive: true });
    // A provider with nothing to change still gets the folder, as Prisma writes an empty draft.
    const sql = scripts.get(provider) ?? '-- This is an empty migration.';
    await writeFile(path.join(dir, folder, 'migration.sql'), sql);
    const lockPath = path.join(dir, 'migration_lock.toml');
    if (!existsSync(lockPath)) await writeFile(lockPath, lockFileContent(provider));
    console.log(`wrote ${path.join(dir, folder, 'migration.sql')}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    // The wasm engine leaves a 10 s timer behind after free(); do not wait for it.
    () => process.exit(),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
