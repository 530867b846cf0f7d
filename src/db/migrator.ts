/**
 * Applies the committed migrations (prisma/<provider>/migrations/<name>/migration.sql)
 * at start-up, recording them in `_prisma_migrations` exactly as Prisma does, so
 * `prisma migrate deploy` / `migrate status` stay usable wherever Prisma's native
 * engine can be installed.
 *
 * Differences from `prisma migrate deploy`, on purpose:
 * - each migration runs inside a transaction together with its bookkeeping row
 *   (Prisma does not wrap scripts), so a failure leaves the database as it was;
 *   the failed attempt is recorded with rolled_back_at set (Prisma's meaning:
 *   "ignored, kept as audit trail"), so the fixed file can be applied next start;
 * - an applied migration whose file changed (checksum) stops start-up (Prisma
 *   only warns in `migrate dev`): a schema that silently differs from the code is
 *   worse than a refusal.
 *
 * Concurrency: PostgreSQL takes Prisma's own advisory lock (so we also serialise
 * with `prisma migrate deploy`); SQLite takes the write lock per migration with
 * BEGIN IMMEDIATE and re-reads the history inside it.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import type { Logger } from 'pino';
import { parseDatabaseUrl, type DatabaseTarget, type PostgresTarget, type Provider, type SqliteTarget } from './url.ts';
import { REPO_ROOT } from '../paths.ts';
import { enableWal } from './sqlite-wal.ts';

export const PROVIDERS: readonly Provider[] = ['sqlite', 'postgresql'];

/** The repository's prisma/ folder. */
export const prismaDir = path.join(REPO_ROOT, 'prisma');

export function migrationsDirFor(provider: Provider): string {
  return path.join(prismaDir, provider, 'migrations');
}

/** Prisma's advisory lock key for migrations (schema-engine's postgres connector). */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

export interface Migration {
  /** Folder name, e.g. 20261128102000_init; migrations apply in name order. */
  name: string;
  sql: string;
  /** sha256 hex of migration.sql, as Prisma stores it. */
  checksum: string;
}

/** One row of `_prisma_migrations`. */
export interface MigrationRecord {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

export type MigrationErrorCode =
  | 'MISSING_MIGRATION_FILE'
  | 'CHECKSUM_MISMATCH'
  | 'FAILED_MIGRATION'
  | 'MIGRATION_FAILED'
  | 'FOREIGN_KEY_VIOLATION'
  | 'LOCK_TIMEOUT';

export class MigrationError extends Error {
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    readonly migrationName?: string,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

/** Reads a provider's migrations folder, sorted by name. A missing folder means no migrations. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name);
  names.sort();
  return Promise.all(
    names.map(async (name) => {
      const file = path.join(dir, name, 'migration.sql');
      if (!existsSync(file)) {
        throw new MigrationError('MISSING_MIGRATION_FILE', `migration folder ${file} has no migration.sql`, name);
      }
      const sql = await readFile(file, 'utf8');
      return { name, sql, checksum: checksumOf(sql) };
    }),
  );
}

export interface MigrationPlan {
  /** Migrations in the folder with no successful, non-rolled-back record, in order. */
  pending: Migration[];
  /** Applied migrations the folder does not have (a database newer than the code). */
  unknown: string[];
}

/**
 * Decides what to apply. Pure. Throws MigrationError when the history forbids
 * going on: a failed migration nobody resolved, or an applied file that changed.
 */
export function planMigrations(files: Migration[], records: MigrationRecord[]): MigrationPlan {
  const live = records.filter((r) => r.rolled_back_at === null);
  const failed = live.find((r) => r.finished_at === null);
  if (failed) {
    throw new MigrationError(
      'FAILED_MIGRATION',
      `migration ${failed.migration_name} failed earlier (started ${failed.started_at.toISOString()}) and was not ` +
        `rolled back; fix the database, then mark it resolved (prisma migrate resolve --rolled-back|--applied ` +
        `${failed.migration_name}, or set rolled_back_at / finished_at in _prisma_migrations).` +
        (failed.logs ? `\nLogs: ${failed.logs}` : ''),
      failed.migration_name,
    );
  }
  const applied = new Map(live.map((r) => [r.migration_name, r]));
  for (const file of files) {
    const record = applied.get(file.name);
    if (record && record.checksum !== file.checksum) {
      throw new MigrationError(
        'CHECKSUM_MISMATCH',
        `migration ${file.name} was modified after it was applied (database checksum ${record.checksum}, file ` +
          `${file.checksum}); restore the file, and put changes in a new migration (npm run db:migration -- <name>)`,
        file.name,
      );
    }
  }
  const known = new Set(files.map((f) => f.name));
  return {
    pending: files.filter((f) => !applied.has(f.name)),
    unknown: [...applied.keys()].filter((name) => !known.has(name)),
  };
}

/** The database side of the migrator: one connection, one provider. */
interface MigrationStore {
  readonly provider: Provider;
  /** Serialises migrators across processes for the whole run (PostgreSQL). */
  lock(): Promise<void>;
  unlock(): Promise<void>;
  /** Starts a write transaction; on SQLite this is the cross-process lock. */
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  ensureTable(): Promise<void>;
  records(): Promise<MigrationRecord[]>;
  runScript(migration: Migration): Promise<void>;
  insertRecord(record: MigrationRecord): Promise<void>;
  close(): Promise<void>;
}

// The exact DDL Prisma's schema engine uses for its bookkeeping table.
const SQLITE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

const POSTGRES_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** SQLite DATETIME values as Prisma writes them (RFC 3339, UTC), or as `current_timestamp` does. */
function sqliteDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  const text = String(value);
  return new Date(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text) ? `${text.replace(' ', 'T')}Z` : text);
}

/** Prisma's engine stores SQLite DATETIMEs as RFC 3339 text with an explicit offset. */
function sqliteDateText(d: Date): string {
  return d.toISOString().replace(/Z$/, '+00:00');
}

const RECORDS_QUERY = 'SELECT * FROM "_prisma_migrations" ORDER BY "started_at", "migration_name"';

function sqliteRecords(db: BetterSqlite3.Database): MigrationRecord[] {
  const rows = db.prepare(RECORDS_QUERY).all() as Record<string, unknown>[];
  return rows.map((r) => ({
    id: String(r.id),
    checksum: String(r.checksum),
    finished_at: sqliteDate(r.finished_at),
    migration_name: String(r.migration_name),
    logs: r.logs === null ? null : String(r.logs),
    rolled_back_at: sqliteDate(r.rolled_back_at),
    started_at: sqliteDate(r.started_at) ?? new Date(0),
    applied_steps_count: Number(r.applied_steps_count),
  }));
}

class SqliteStore implements MigrationStore {
  readonly provider = 'sqlite' as const;
  private readonly db: BetterSqlite3.Database;

  constructor(
    target: SqliteTarget,
    private readonly busyTimeoutMs: number,
  ) {
    if (target.filename !== ':memory:') mkdirSync(path.dirname(target.filename), { recursive: true });
    this.db = new BetterSqlite3(target.filename, { timeout: busyTimeoutMs });
    enableWal(this.db, busyTimeoutMs);
    // Prisma's table-redefinition scripts DROP and re-create tables; with
    // foreign keys on, that DROP would fire ON DELETE CASCADE on child rows.
    // The pragma is ignored inside a transaction, so set it here and check the
    // keys explicitly before each commit instead.
    this.db.pragma('foreign_keys = OFF');
  }

  async lock(): Promise<void> {}
  async unlock(): Promise<void> {}

  async begin(): Promise<void> {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      throw new MigrationError('LOCK_TIMEOUT', `another process kept the SQLite database locked for over ${this.busyTimeoutMs} ms`);
    }
  }
  async commit(): Promise<void> {
    this.db.exec('COMMIT');
  }
  async rollback(): Promise<void> {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  async ensureTable(): Promise<void> {
    this.db.exec(SQLITE_MIGRATIONS_TABLE);
  }

  async records(): Promise<MigrationRecord[]> {
    return sqliteRecords(this.db);
  }

  async runScript(migration: Migration): Promise<void> {
    this.db.exec(migration.sql);
    const violations = this.db.pragma('foreign_key_check') as unknown[];
    if (violations.length > 0) {
      throw new MigrationError(
        'FOREIGN_KEY_VIOLATION',
        `migration ${migration.name} leaves ${violations.length} foreign key violation(s): ${JSON.stringify(violations.slice(0, 5))}`,
        migration.name,
      );
    }
  }

  async insertRecord(r: MigrationRecord): Promise<void> {
    const text = (d: Date | null): string | null => (d ? sqliteDateText(d) : null);
    this.db
      .prepare(
        'INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count") VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        r.id,
        r.checksum,
        text(r.finished_at),
        r.migration_name,
        r.logs,
        text(r.rolled_back_at),
        sqliteDateText(r.started_at),
        r.applied_steps_count,
      );
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

class PostgresStore implements MigrationStore {
  readonly provider = 'postgresql' as const;
  private readonly client: pg.Client;
  private connected = false;

  constructor(
    private readonly target: PostgresTarget,
    private readonly lockTimeoutMs: number,
  ) {
    this.client = new pg.Client({ connectionString: target.connectionString });
  }

  async lock(): Promise<void> {
    await this.client.connect();
    this.connected = true;
    // Bounded wait, so a migrator stuck elsewhere gives a clear error, not a hang;
    // reset afterwards so migration DDL may wait for busy tables as long as needed.
    await this.client.query(`SET lock_timeout = ${Math.max(1, Math.round(this.lockTimeoutMs))}`);
    try {
      await this.client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    } catch (err) {
      if ((err as { code?: string }).code !== '55P03') throw err;
      throw new MigrationError(
        'LOCK_TIMEOUT',
        `another process held the migration lock (pg_advisory_lock(${PRISMA_ADVISORY_LOCK_KEY})) for over ${this.lockTimeoutMs} ms`,
      );
    }
    await this.client.query('SET lock_timeout = 0');
    // Under the lock, so two first starts do not race to create the schema.
    await this.client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.target.schema)}`);
    // Migration scripts use unqualified names: they land in the target schema.
    await this.client.query(`SET search_path TO ${quoteIdent(this.target.schema)}`);
  }

  async unlock(): Promise<void> {
    if (this.connected) await this.client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
  }

  async begin(): Promise<void> {
    await this.client.query('BEGIN');
  }
  async commit(): Promise<void> {
    await this.client.query('COMMIT');
  }
  async rollback(): Promise<void> {
    await this.client.query('ROLLBACK');
  }

  async ensureTable(): Promise<void> {
    await this.client.query(POSTGRES_MIGRATIONS_TABLE);
  }

  async records(): Promise<MigrationRecord[]> {
    const { rows } = await this.client.query<MigrationRecord>(RECORDS_QUERY);
    return rows;
  }

  async runScript(migration: Migration): Promise<void> {
    // No parameters: the simple query protocol runs a multi-statement script.
    await this.client.query(migration.sql);
  }

  async insertRecord(r: MigrationRecord): Promise<void> {
    await this.client.query(
      'INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [r.id, r.checksum, r.finished_at, r.migration_name, r.logs, r.rolled_back_at, r.started_at, r.applied_steps_count],
    );
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

export interface MigrateOptions {
  logger?: Logger;
  /** Defaults to prisma/<provider>/migrations of this repository. */
  migrationsDir?: string;
  /** How long to wait for another migrator (or a SQLite writer) to finish (ms, default 60 000). */
  lockTimeoutMs?: number;
}

export interface MigrateResult {
  provider: Provider;
  /** Names of the migrations this call applied, in order. */
  applied: string[];
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Brings the database up to date with the migrations folder. Safe to call from
 * several processes at once: each migration is applied exactly once.
 */
export async function migrate(database: string | DatabaseTarget, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const target = typeof database === 'string' ? parseDatabaseUrl(database) : database;
  const dir = opts.migrationsDir ?? migrationsDirFor(target.provider);
  const log = opts.logger?.child({ component: 'migrator', provider: target.provider });
  const files = await readMigrations(dir);
  const lockTimeout = opts.lockTimeoutMs ?? 60_000;
  const store: MigrationStore =
    target.provider === 'sqlite' ? new SqliteStore(target, lockTimeout) : new PostgresStore(target, lockTimeout);
  const applied: string[] = [];
  try {
    await store.lock();
    try {
      // One migration per transaction; the history is re-read under the lock each
      // time, so a migrator that waited sees what the other one applied.
      for (;;) {
        await store.begin();
        let next: Migration | undefined;
        try {
          await store.ensureTable();
          const plan = planMigrations(files, await store.records());
          if (applied.length === 0 && plan.unknown.length > 0) {
            log?.warn({ unknown: plan.unknown }, 'database has migrations this code does not know (newer release?)');
          }
          next = plan.pending[0];
          if (!next) {
            await store.commit();
            break;
          }
          const startedAt = new Date();
          await store.runScript(next);
          await store.insertRecord({
            id: randomUUID(),
            checksum: next.checksum,
            finished_at: new Date(),
            migration_name: next.name,
            logs: null,
            rolled_back_at: null,
            started_at: startedAt,
            applied_steps_count: 1,
          });
          await store.commit();
          applied.push(next.name);
          log?.info({ migration: next.name, ms: Date.now() - startedAt.getTime() }, 'migration applied');
        } catch (err) {
          // A dead connection fails the rollback too; the first error is the one to report.
          await store.rollback().catch(() => {});
          if (!next || (err instanceof MigrationError && err.code !== 'FOREIGN_KEY_VIOLATION')) throw err;
          const failed = next;
          log?.error({ migration: failed.name, err }, 'migration failed and was rolled back');
          await recordFailure(store, failed, err).catch((auditErr: unknown) =>
            log?.warn({ migration: failed.name, err: auditErr }, 'could not record the failed attempt'),
          );
          throw new MigrationError(
            'MIGRATION_FAILED',
            `migration ${failed.name} failed and was rolled back: ${errorText(err)}`,
            failed.name,
          );
        }
      }
    } finally {
      await store.unlock();
    }
  } finally {
    await store.close();
  }
  if (applied.length === 0) log?.debug({ migrations: files.length }, 'database schema is up to date');
  return { provider: target.provider, applied };
}

/** Keeps an audit row of a failed attempt, marked rolled back (the transaction undid it). */
async function recordFailure(store: MigrationStore, migration: Migration, err: unknown): Promise<void> {
  const now = new Date();
  await store.begin();
  await store.insertRecord({
    id: randomUUID(),
    checksum: migration.checksum,
    finished_at: null,
    migration_name: migration.name,
    logs: errorText(err),
    rolled_back_at: now,
    started_at: now,
    applied_steps_count: 0,
  });
  await store.commit();
}

export interface MigrationStatus {
  provider: Provider;
  /** False when there is no database yet, or no migration history in it (the first start creates both). */
  exists: boolean;
  applied: number;
  /** What the next start applies; `unknown`: applied migrations this code does not have (a newer release's). */
  plan: MigrationPlan;
}

/**
 * Where the database stands against the migrations folder, without changing anything: no file, schema, table
 * or lock is created (`maskwatch doctor`). Throws MigrationError as `migrate` would refuse to start.
 */
export async function migrationStatus(database: string | DatabaseTarget, opts: Pick<MigrateOptions, 'migrationsDir'> = {}): Promise<MigrationStatus> {
  const target = typeof database === 'string' ? parseDatabaseUrl(database) : database;
  const files = await readMigrations(opts.migrationsDir ?? migrationsDirFor(target.provider));
  const status = (records: MigrationRecord[] | null): MigrationStatus => ({
    provider: target.provider,
    exists: records !== null,
    applied: (records ?? []).filter((r) => r.rolled_back_at === null && r.finished_at !== null).length,
    plan: planMigrations(files, records ?? []),
  });
  if (target.provider === 'sqlite') {
    if (target.filename === ':memory:' || !existsSync(target.filename)) return status(null);
    const db = new BetterSqlite3(target.filename, { readonly: true, fileMustExist: true });
    try {
      const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get();
      return status(table ? sqliteRecords(db) : null);
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.connectionString });
  await client.connect();
  try {
    const { rows } = await client.query<{ table: string | null }>('SELECT to_regclass($1) AS "table"', [`${quoteIdent(target.schema)}."_prisma_migrations"`]);
    if (!rows[0]?.table) return status(null);
    const { rows: records } = await client.query<MigrationRecord>(RECORDS_QUERY.replace('"_prisma_migrations"', `${quoteIdent(target.schema)}."_prisma_migrations"`));
    return status(records);
  } finally {
    await client.end();
  }
}
