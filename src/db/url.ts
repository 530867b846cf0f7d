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

const SECRET_PARAM = /^(.*(?:pass|secret|token|key).*)$/i;

/**
 * Redacts the credentials of a URL, for logs and error messages: the password (everything after the
 * user name up to the last "@", so a password holding "/", "@" or ":" is masked whole even when the URL
 * does not parse; all of it when there is no "user:" part) and query parameters named like a secret
 * (password=, sentinelPassword=…). Never throws.
 */
export function redactUrl(url: string): string {
  let out = url;
  const start = out.indexOf('://');
  const at = out.lastIndexOf('@');
  if (start !== -1 && at > start) {
    const userinfo = out.slice(start + 3, at);
    const colon = userinfo.indexOf(':');
    const shown = colon === -1 || /[/?#]/.test(userinfo.slice(0, colon)) ? '***' : `${userinfo.slice(0, colon)}:***`;
    out = `${out.slice(0, start + 3)}${shown}${out.slice(at)}`;
  }
  const query = out.indexOf('?');
  if (query === -1) return out;
  const params = out
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq !== -1 && SECRET_PARAM.test(pair.slice(0, eq)) ? `${pair.slice(0, eq)}=***` : pair;
    });
  return `${out.slice(0, query)}?${params.join('&')}`;
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
