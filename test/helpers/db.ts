import pg from 'pg';
import { POSTGRES_URL, uniqueId } from './env.ts';

export type TestProvider = 'sqlite' | 'postgresql';

export interface TestDatabase {
  provider: TestProvider;
  /** DATABASE_URL for this test: its own SQLite file, or its own PostgreSQL schema. */
  url: string;
  /** Drops the PostgreSQL schema (SQLite files go with the temp dir). */
  cleanup(): Promise<void>;
}

/** Providers to run database tests against (TEST_DB=sqlite|postgresql to run one). */
export function testProviders(): TestProvider[] {
  const only = process.env.TEST_DB;
  if (only === 'sqlite' || only === 'postgresql') return [only];
  return ['sqlite', 'postgresql'];
}

/** A database URL of its own for one test: unique SQLite file in dataDir, or a unique PostgreSQL schema. */
export function testDatabase(provider: TestProvider, dataDir: string): TestDatabase {
  if (provider === 'sqlite') {
    return { provider, url: `file:${dataDir}/test-${uniqueId()}.db`, cleanup: async () => undefined };
  }
  const schema = `t_${uniqueId()}`;
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return {
    provider,
    url: url.toString(),
    async cleanup() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
