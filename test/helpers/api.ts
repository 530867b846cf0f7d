import type { Logger } from 'pino';
import type { Config } from '../../src/config/config.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { startApiInstance, type ApiInstance } from '../../src/system/api-instance.ts';
import type { ReadinessCheck } from '../../src/api/context.ts';
import { deleteRedisPrefix, tempDir, testConfig, testLogger } from './env.ts';
import { testDatabase, type TestProvider } from './db.ts';

export interface TestStack {
  config: Config;
  db: Database;
  logger: Logger;
  dataDir: string;
  /** Starts an API instance on a free port sharing this stack's database, Redis prefix and data dir. */
  startApi(opts?: { config?: Partial<Config>; readinessChecks?: ReadinessCheck[]; totpClock?: () => Date }): Promise<ApiInstance>;
  /** Closes every API started here, the database, and deletes the temp dir / schema. */
  close(): Promise<void>;
}

/**
 * Real parts, isolated: a temp data dir, a database of its own (SQLite file or
 * PostgreSQL schema, migrated), a unique queue prefix on the local Redis.
 * `env` overrides config variables (e.g. MASKWATCH_MAX_FRAME_BYTES).
 */
export async function createTestStack(
  provider: TestProvider = 'sqlite',
  env: Record<string, string> = {},
): Promise<TestStack> {
  const tmp = await tempDir('maskwatch-test');
  const database = testDatabase(provider, tmp.dir);
  const config = testConfig(tmp.dir, { DATABASE_URL: database.url, ...env });
  const logger = testLogger();
  const db = await openDatabase(config.databaseUrl, { logger });
  const apis: ApiInstance[] = [];
  return {
    config,
    db,
    logger,
    dataDir: tmp.dir,
    async startApi(opts = {}) {
      const api = await startApiInstance({
        config: { ...config, ...opts.config },
        logger,
        db,
        readinessChecks: opts.readinessChecks,
        totpClock: opts.totpClock,
      });
      apis.push(api);
      return api;
    },
    async close() {
      await Promise.allSettled(apis.map((a) => a.close()));
      await db.close();
      await database.cleanup();
      await deleteRedisPrefix(config.redisUrl, config.queuePrefix);
      await tmp.cleanup();
    },
  };
}

/**
 * A parsed response body as tests read it: field by field, each read checked by an assertion (a wrong
 * field fails the test), so a type per response would add nothing.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type JsonBody = any;

/** fetch() against an API with JSON in and out; returns status, headers and parsed body. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; json?: unknown; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: JsonBody }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined;
  if (opts.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.body !== undefined) {
    body = opts.body as BodyInit;
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Creates a user directly through the auth service and logs in; returns the token. */
export async function loginAs(
  api: ApiInstance,
  user: { username: string; password?: string; role: 'ADMIN' | 'DISPATCHER' | 'OFFICER'; unitCallSign?: string },
): Promise<{ token: string; userId: string }> {
  const password = user.password ?? 'correct horse battery staple';
  const created = await api.app.auth.createUser({ ...user, password }, { type: 'SYSTEM' });
  const res = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username: user.username, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.token, userId: created.id };
}
