/**
 * Tells a database that cannot be reached (down, restarting, refusing connections, out of
 * connection slots) from an ordinary failed query. Pure: looks only at the error's fields.
 *
 * What arrives, PostgreSQL through Prisma 7's pg adapter: a PrismaClientKnownRequestError whose
 * meta.driverAdapterError.cause has a `kind` (DatabaseNotReachable = P1001 on ECONNREFUSED /
 * ENOTFOUND, ConnectionClosed = P1017 on ECONNRESET, SocketTimeout, TooManyConnections = 53300), or
 * kind "postgres" with the server's SQLSTATE and severity: a FATAL (57P01 after
 * pg_terminate_backend, 55000 "database is not currently accepting connections", 57P03 while
 * starting up) ends the session, never a query. From pg itself: the SQLSTATE and severity on the
 * error, or pg's "Connection terminated…" messages. PrismaClientInitializationError: the client
 * could not connect at all.
 *
 * A bare socket error (ECONNREFUSED…) is not taken as the database's: Redis and webhooks fail the
 * same way. Where only the database can have failed (opening it at start), see DatabaseUnavailableError.
 */

/** Driver adapter error kinds that mean "no usable connection". */
const UNREACHABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TlsConnectionError']);
/** Prisma's connection-level error codes (can't reach, timed out, server closed the connection, too many connections). */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2037']);
/** SQLSTATEs of a server that is going away, starting, or full (class 08: connection exception). */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** pg's own errors for a connection that went away without a server message. */
const PG_MESSAGES = /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable)$/;

function isSqlstateUnavailable(code: unknown, severity: unknown): boolean {
  if (typeof code !== 'string') return false;
  return SQLSTATES.has(code) || code.startsWith('08') || severity === 'FATAL' || severity === 'PANIC';
}

function isUnavailableCause(cause: unknown): boolean {
  if (!cause || typeof cause !== 'object') return false;
  const c = cause as { kind?: unknown; code?: unknown; originalCode?: unknown; severity?: unknown };
  if (typeof c.kind === 'string' && UNREACHABLE_KINDS.has(c.kind)) return true;
  return c.kind === 'postgres' && isSqlstateUnavailable(c.originalCode ?? c.code, c.severity);
}

/** Whether `err` (or an error it wraps) says the database could not be reached, not that a query failed. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { name?: unknown; code?: unknown; severity?: unknown; message?: unknown; meta?: unknown; cause?: unknown };
  if (e.name === 'PrismaClientInitializationError' || e.name === 'DatabaseUnavailableError') return true;
  if (e.name === 'PrismaClientKnownRequestError') {
    if (typeof e.code === 'string' && PRISMA_CODES.has(e.code)) return true;
    const adapterError = (e.meta as { driverAdapterError?: { cause?: unknown } } | undefined)?.driverAdapterError;
    if (adapterError && isUnavailableCause(adapterError.cause)) return true;
  } else if (typeof e.severity === 'string' && isSqlstateUnavailable(e.code, e.severity)) {
    return true;
  }
  if (typeof e.message === 'string' && PG_MESSAGES.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/** The database named by DATABASE_URL could not be opened (connected to or migrated over a connection that failed). */
export class DatabaseUnavailableError extends Error {
  constructor(
    /** The URL with its password masked. */
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot connect to the database at ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/** A one-line reason for logs: the driver's own words (Prisma's message is a multi-line call-site dump). */
export function databaseFailureReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { meta?: { driverAdapterError?: { cause?: { kind?: string; originalCode?: string; originalMessage?: string } } } }).meta
    ?.driverAdapterError?.cause;
  if (cause?.originalMessage) return `${cause.originalCode ?? ''} ${cause.originalMessage}`.trim();
  if (cause?.kind) return cause.kind;
  return err.message.trim().split('\n').at(-1) || err.name;
}
