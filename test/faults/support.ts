/**
 * Shared set-up of the fault tests (not a test file itself): an isolated
 * deployment environment (temp data dir, its own SQLite file or PostgreSQL
 * schema, a unique queue prefix), a read-only view of its database and queue,
 * and the real face images the frames are made of.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import { QUEUES } from '../../src/queue/jobs.ts';
import { deleteRedisPrefix, REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';
import { testDatabase, type TestProvider } from '../helpers/db.ts';
import { ASSETS, Cleanup, StopWaiting, waitFor, type SystemEnv } from './processes.ts';

const DATASETS = path.join(ASSETS, 'datasets');
/** One unmasked face (→ exactly one violation per frame) and one real masked face (→ none). */
export const UNMASKED_FILE = path.join(DATASETS, 'prajna', 'without_mask', '10.jpg');
export const MASKED_FILE = path.join(DATASETS, 'chandrikadeb7', 'with_mask', '0323.jpg');
export const UNMASKED = readFileSync(UNMASKED_FILE);
export const MASKED = readFileSync(MASKED_FILE);

export interface FaultEnv {
  sys: SystemEnv;
  dir: string;
  cleanup: Cleanup;
  /** Opened lazily: the test's own view of the deployment's database. */
  db(): Promise<Database>;
  queue(): Queue;
  /** Violations stored per frameId, for the given frames (0 when none). */
  violationsByFrame(frameIds: string[]): Promise<Map<string, number>>;
  /** Waits until every job is completed (throws listing those failed). */
  waitCompleted(frameIds: string[], timeoutMs?: number): Promise<void>;
}

export async function createFaultEnv(opts: { provider?: TestProvider; databaseUrl?: string; redisUrl?: string; label?: string } = {}): Promise<FaultEnv> {
  const cleanup = new Cleanup();
  const tmp = await tempDir(`mw-${opts.label ?? 'faults'}`);
  cleanup.add(() => tmp.cleanup());
  let databaseUrl = opts.databaseUrl;
  if (!databaseUrl) {
    const database = testDatabase(opts.provider ?? 'sqlite', tmp.dir);
    cleanup.add(() => database.cleanup());
    databaseUrl = database.url;
  }
  const sys: SystemEnv = { databaseUrl, redisUrl: opts.redisUrl ?? REDIS_URL, queuePrefix: uniquePrefix(opts.label ?? 'faults'), dataDir: tmp.dir };
  cleanup.add(() => deleteRedisPrefix(sys.redisUrl, sys.queuePrefix));
  let db: Promise<Database> | undefined;
  let queue: Queue | undefined;
  const env: FaultEnv = {
    sys,
    dir: tmp.dir,
    cleanup,
    db() {
      db ??= openDatabase(sys.databaseUrl, { migrate: false }).then((d) => {
        cleanup.add(() => d.close());
        return d;
      });
      return db;
    },
    queue() {
      if (!queue) {
        queue = new Queue(QUEUES.frames, { connection: { ...redisOptionsFromUrl(sys.redisUrl), maxRetriesPerRequest: null }, prefix: sys.queuePrefix });
        queue.on('error', () => undefined); // the Redis under test may be down for a while
        const q = queue;
        cleanup.add(() => q.close());
      }
      return queue;
    },
    async violationsByFrame(frameIds) {
      const { prisma } = await env.db();
      const rows = await prisma.violation.groupBy({ by: ['frameId'], where: { frameId: { in: frameIds } }, _count: { _all: true } });
      const counts = new Map(frameIds.map((id) => [id, 0]));
      for (const r of rows) counts.set(r.frameId, r._count._all);
      return counts;
    },
    async waitCompleted(frameIds, timeoutMs = 120_000) {
      const q = env.queue();
      await waitFor(
        `${frameIds.length} jobs completed`,
        async () => {
          const states = await Promise.all(frameIds.map((id) => q.getJobState(id)));
          const failed = frameIds.filter((_, i) => states[i] === 'failed');
          if (failed.length > 0) throw new StopWaiting(`jobs failed for good: ${failed.join(', ')}`);
          return states.every((s) => s === 'completed');
        },
        { timeoutMs, intervalMs: 250 },
      );
    },
  };
  return env;
}


/** Which of `frameIds` are unmasked frames, given the order they were posted in. */
export function expectedViolations(frames: { frameId: string; unmasked: boolean }[]): Map<string, number> {
  return new Map(frames.map((f) => [f.frameId, f.unmasked ? 1 : 0]));
}
