/**
 * Opens the database named by a URL: picks the Prisma client + driver adapter
 * for the provider, prepares the database (SQLite file/WAL, PostgreSQL schema)
 * and, by default, applies pending migrations first.
 *
 *   const db = await openDatabase(config.databaseUrl, { logger });
 *   await db.prisma.camera.findMany();
 *   await db.close();
 */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Logger } from 'pino';
import { PrismaClient as SqlitePrismaClient } from './generated/sqlite/client.ts';
import { PrismaClient as PostgresPrismaClient } from './generated/postgresql/client.ts';
import { migrate, MigrationError } from './migrator.ts';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './unavailable.ts';
import { DatabaseUrlError, parseDatabaseUrl, redactUrl, type DatabaseTarget, type PostgresTarget, type Provider, type SqliteTarget } from './url.ts';
import { enableWal } from './sqlite-wal.ts';
import { ImmediateTransactionsSqlite } from './sqlite-immediate.ts';

export { DatabaseUrlError, parseDatabaseUrl, type Provider } from './url.ts';
export { MigrationError } from './migrator.ts';
export { DatabaseUnavailableError } from './unavailable.ts';
// Model types and enums, identical for both providers (same models file).
export type { Alert, AuditEvent, Camera, PatrolUnit, Prisma, Session, User, Violation } from './generated/sqlite/client.ts';
export { AlertStatus, Role, UnitStatus } from './generated/sqlite/enums.ts';

/**
 * The Prisma client type the rest of the code programs against. Both generated
 * clients come from the same prisma/models.prisma, so their model APIs are the
 * same; the SQLite one is used as the single type (the PostgreSQL client is
 * cast to it once, in openPostgres below).
 */
export type Db = SqlitePrismaClient;

export interface Database {
  prisma: Db;
  provider: Provider;
  /** Migrations this open applied, in order (empty: the schema was up to date, or migrate: false). */
  appliedMigrations: string[];
  /** Disconnects Prisma and ends every connection/pool it opened. Idempotent. */
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  logger?: Logger;
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  /** SQLite: how long a writer waits for another process's lock before SQLITE_BUSY (ms, default 5000). */
  busyTimeoutMs?: number;
  /** PostgreSQL: maximum pool size (default: pg's 10; config.databasePoolSize, MASKWATCH_DB_POOL_SIZE). */
  poolSize?: number;
}

export async function openDatabase(url: string, opts: OpenDatabaseOptions = {}): Promise<Database> {
  const target = parseDatabaseUrl(url);
  const log = opts.logger?.child({ component: 'db', provider: target.provider });
  if (target.provider === 'sqlite') prepareSqlite(target, opts.busyTimeoutMs ?? 5000);
  let appliedMigrations: string[] = [];
  try {
    if (opts.migrate ?? true) {
      ({ applied: appliedMigrations } = await migrate(target, { logger: opts.logger }));
    } else if (target.provider === 'postgresql') {
      await ensureSchema(target);
    }
  } catch (err) {
    throw asConnectionFailure(target, err);
  }
  const { prisma, release } = target.provider === 'sqlite' ? openSqlite(target, opts) : openPostgres(target, opts);
  const shutdown = async (): Promise<void> => {
    try {
      await prisma.$disconnect();
    } finally {
      await release();
    }
  };
  try {
    await prisma.$connect();
  } catch (err) {
    await shutdown().catch(() => {});
    throw asConnectionFailure(target, err);
  }
  log?.info(
    {
      database: target.provider === 'sqlite' ? target.filename : redactUrl(target.connectionString),
      schema: target.provider === 'postgresql' ? target.schema : undefined,
    },
    'database opened',
  );
  let closing: Promise<void> | undefined;
  return {
    prisma,
    provider: target.provider,
    appliedMigrations,
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}

/** Socket errors while opening: here only the database can have failed (a bare "connect ECONNREFUSED" said not which). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);

/** A failure to reach PostgreSQL, said as such with the (password-masked) URL; anything else as it was. */
function asConnectionFailure(target: DatabaseTarget, err: unknown): unknown {
  if (target.provider !== 'postgresql' || err instanceof MigrationError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (!isDatabaseUnavailable(err) && !(typeof code === 'string' && SOCKET_CODES.has(code))) return err;
  return new DatabaseUnavailableError(redactUrl(target.connectionString), err);
}

interface OpenedClient {
  prisma: Db;
  /** Frees what Prisma's $disconnect does not. */
  release(): Promise<void>;
}

/**
 * Creates the file's folder and switches the file to WAL, so readers (API) and
 * writers (workers) in different processes do not block each other. WAL is a
 * property of the file, so setting it once here covers the adapter's connection.
 */
function prepareSqlite(target: SqliteTarget, busyTimeoutMs: number): void {
  if (target.filename === ':memory:') {
    // The migrator and Prisma would each get their own, separate empty database.
    throw new DatabaseUrlError('in-memory SQLite (file::memory:) is not supported: use a file, e.g. in a temp folder');
  }
  mkdirSync(path.dirname(target.filename), { recursive: true, mode: 0o700 });
  // Owner-only, created so before SQLite opens it (its -wal / -shm files copy the database file's mode);
  // chmod also tightens a database created by an older version.
  closeSync(openSync(target.filename, 'a', 0o600));
  chmodSync(target.filename, 0o600);
  const db = new BetterSqlite3(target.filename, { timeout: busyTimeoutMs });
  try {
    enableWal(db, busyTimeoutMs);
  } finally {
    db.close();
  }
}

function openSqlite(target: SqliteTarget, opts: OpenDatabaseOptions): OpenedClient {
  // `timeout` is better-sqlite3's busy timeout: wait for another process's write lock.
  const adapter = new PrismaBetterSqlite3({ url: target.filename, timeout: opts.busyTimeoutMs ?? 5000 });
  return { prisma: new SqlitePrismaClient({ adapter: new ImmediateTransactionsSqlite(adapter) }), release: async () => {} };
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function openPostgres(target: PostgresTarget, opts: OpenDatabaseOptions): OpenedClient {
  const pool = new pg.Pool({
    connectionString: target.connectionString,
    max: opts.poolSize,
    // Prisma qualifies table names with `schema`, but enum casts and raw SQL
    // are unqualified: the search_path makes those resolve in the same schema.
    options: `-c search_path=${quoteIdent(target.schema)}`,
  });
  // pool.end() resolves before the sockets are closed; counting them lets
  // close() resolve only once nothing is left open.
  const live = new Set<pg.Client>();
  pool.on('connect', (client) => live.add(client));
  const gone = new Promise<void>((resolve) => {
    pool.on('remove', (client) => {
      live.delete(client);
      if (pool.ending && live.size === 0) resolve();
    });
  });
  const adapter = new PrismaPg(pool, { schema: target.schema });
  const client = new PostgresPrismaClient({ adapter });
  return {
    // Same models, same generated API; only the provider-specific internals differ.
    prisma: client as unknown as Db,
    async release() {
      const drained = live.size === 0 ? Promise.resolve() : gone;
      await pool.end();
      await drained;
    },
  };
}

/** With migrate: false the schema may not exist yet; create it so queries fail on tables, not on the schema. */
async function ensureSchema(target: PostgresTarget): Promise<void> {
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.schema)}`);
  } catch (err) {
    // Two processes creating it at once: IF NOT EXISTS is not atomic; the loser sees a duplicate.
    const code = (err as { code?: string }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  } finally {
    await client.end();
  }
}
