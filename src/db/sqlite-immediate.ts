/**
 * Prisma's SQLite adapter opens transactions with a deferred BEGIN. With WAL and
 * several processes, a transaction that reads and then writes fails at once with
 * SQLITE_BUSY (P1008) whenever another process committed in between: SQLite
 * cannot upgrade a stale snapshot, and the busy timeout does not apply. Measured
 * here: ~28 % of read-then-update transactions failed with 3 worker processes.
 * BEGIN IMMEDIATE takes the write lock up front (waiting up to the busy
 * timeout), which serialises writers instead of failing them.
 *
 * The adapter has no option for it, so this wrapper rewrites the adapter's
 * `BEGIN` on its better-sqlite3 connection, reached through the adapter's
 * private `client` field. That field is checked at connect time: if an upgrade
 * of @prisma/adapter-better-sqlite3 renames it, start-up fails with this message
 * instead of silently losing the guarantee (test/integration/db-sqlite-immediate.test.ts).
 */
import type BetterSqlite3 from 'better-sqlite3';
import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';

export class AdapterInternalsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdapterInternalsError';
  }
}

/** The better-sqlite3 connection inside a connected Prisma SQLite adapter. */
export function adapterConnection(adapter: SqlDriverAdapter): BetterSqlite3.Database {
  const db = (adapter as unknown as { client?: { prepare?: unknown } }).client;
  if (!db || typeof db.prepare !== 'function') {
    throw new AdapterInternalsError(
      '@prisma/adapter-better-sqlite3 no longer exposes its connection as `client`: BEGIN IMMEDIATE cannot be applied; update src/db/sqlite-immediate.ts',
    );
  }
  return db as BetterSqlite3.Database;
}

export class ImmediateTransactionsSqlite implements SqlDriverAdapterFactory {
  readonly provider = 'sqlite' as const;
  readonly adapterName: string;

  constructor(private readonly inner: SqlDriverAdapterFactory) {
    this.adapterName = inner.adapterName;
  }

  async connect(): Promise<SqlDriverAdapter> {
    const adapter = await this.inner.connect();
    const db = adapterConnection(adapter);
    const prepare = db.prepare.bind(db);
    db.prepare = ((sql: string) => prepare(sql === 'BEGIN' ? 'BEGIN IMMEDIATE' : sql)) as typeof db.prepare;
    return adapter;
  }
}
