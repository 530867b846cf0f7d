/**
 * Parses a database URL into what the driver adapters need. Pure: no I/O.
 *
 * `file:` URLs select SQLite, `postgresql://` / `postgres://` select PostgreSQL.
 * PostgreSQL URLs may carry `?schema=NAME` (Prisma's own convention), which we
 * strip from the connection string and hand to the adapter instead.
 */
import path from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

export interface SqliteTarget {
  provider: 'sqlite';
  /** Absolute file path, or ':memory:'. */
  filename: string;
}

export interface PostgresTarget {
  provider: 'postgresql';
  /** Connection string without the Prisma-only `schema` parameter. */
  connectionString: string;
  /** PostgreSQL schema (namespace) holding the tables; 'public' unless ?schema= is given. */
  schema: string;
}

export type DatabaseTarget = SqliteTarget | PostgresTarget;

export class DatabaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUrlError';
  }
}

// Schema names go into DDL (CREATE SCHEMA "x"); a conservative identifier rule
// means we never need to escape anything.
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Redacts the password of a URL, for logs and error messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

/**
 * @param url database URL
 * @param cwd folder relative `file:` paths are resolved against (Prisma resolves
 *   them against the schema file; we use the process's working directory, which is
 *   what a user typing DATABASE_URL=file:./data/x.db expects)
 */
export function parseDatabaseUrl(url: string, cwd: string = process.cwd()): DatabaseTarget {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new DatabaseUrlError('database URL is empty');
  }
  if (url.startsWith('file:')) {
    // Only the path matters; SQLite URI parameters (?mode=...) are not supported by the adapter.
    const raw = url.slice('file:'.length).replace(/^\/\/(?=\/)/, '').split('?')[0] ?? '';
    if (raw === '') throw new DatabaseUrlError(`SQLite URL has no file path: "${url}"`);
    if (raw === ':memory:') return { provider: 'sqlite', filename: ':memory:' };
    return { provider: 'sqlite', filename: path.resolve(cwd, decodeURIComponent(raw)) };
  }
  if (url.startsWith('postgresql://') || url.startsWith('postgres://')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new DatabaseUrlError(`PostgreSQL URL is not a valid URL: "${redactUrl(url)}"`);
    }
    const schema = parsed.searchParams.get('schema') ?? 'public';
    if (!SCHEMA_NAME.test(schema)) {
      throw new DatabaseUrlError(
        `PostgreSQL schema name "${schema}" must be letters, digits and underscores (max 63), not starting with a digit`,
      );
    }
    parsed.searchParams.delete('schema');
    return { provider: 'postgresql', connectionString: parsed.toString(), schema };
  }
  const scheme = url.split(':')[0];
  throw new DatabaseUrlError(
    `unsupported database URL scheme "${scheme}:" — use file:PATH (SQLite) or postgresql://... (PostgreSQL)`,
  );
}
