/**
 * The retention policy as a repeatable BullMQ job: a job scheduler on the
 * `maintenance` queue adds one `retention.enforce` job every interval (one
 * scheduler per deployment, however many workers upsert it), and any worker
 * runs it with enforceRetention, disables inactive accounts, then seals the
 * audit trail's new events.
 * Kept off the frames queue so a backlog of frames never delays deletion, and
 * vice versa.
 */
import { Queue, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { QUEUES, type JobNameOf } from '../jobs.ts';
import { createAuditRepository } from '../../db/repositories/audit.ts';
import { createPrivacyRepository } from '../../db/repositories/privacy.ts';
import { createPrivacyService, type RetentionReport } from '../../services/privacy.ts';
import { createAuditSealService } from '../../services/audit-seals.ts';
import { createAccountService } from '../../services/accounts.ts';
import { createUserRepository } from '../../db/repositories/users.ts';
import { createSecurityKeyRepository } from '../../db/repositories/security-keys.ts';
import { createSessionRepository } from '../../db/repositories/sessions.ts';
import { onceEvery } from '../../system/logger.ts';

export const MAINTENANCE_QUEUE = QUEUES.maintenance;
export const RETENTION_JOB = 'retention.enforce' satisfies JobNameOf<typeof QUEUES.maintenance>;
export const RETENTION_SCHEDULER_ID = 'retention';

export interface RetentionJobDeps {
  prisma: Db;
  dataDir: string;
  retentionDays: number;
  logger: Logger;
  now?: () => Date;
  /** Accounts unused this many days are disabled at each run (MASKWATCH_DISABLE_INACTIVE_DAYS; 0 or absent: never). */
  disableInactiveDays?: number;
  /** After each run, the audit trail's new events are sealed (src/services/audit-seals.ts) with this key. */
  auditSealKey?: () => Promise<Buffer>;
}

/** The job handler: the privacy service's enforceRetention (tests call it directly). */
export function createRetentionHandler(deps: RetentionJobDeps) {
  const privacy = createPrivacyService({
    privacy: createPrivacyRepository(deps.prisma),
    audit: createAuditRepository(deps.prisma),
    dataDir: deps.dataDir,
    logger: deps.logger,
    now: deps.now,
  });
  // No sockets from a worker: the APIs' periodic session re-check drops a disabled user's connections.
  const accounts = createAccountService({
    users: createUserRepository(deps.prisma),
    keys: createSecurityKeyRepository(deps.prisma),
    sessions: createSessionRepository(deps.prisma),
    audit: createAuditRepository(deps.prisma),
    logger: deps.logger,
    now: deps.now,
  });
  const seals = deps.auditSealKey ? createAuditSealService({ audit: createAuditRepository(deps.prisma), key: deps.auditSealKey, now: deps.now }) : null;
  return async function handleRetention(_job?: Pick<Job, 'id'>): Promise<RetentionReport> {
    const report = await privacy.enforceRetention(deps.retentionDays);
    // Same schedule, own failure: retention must still run when this does not.
    try {
      const disabled = await accounts.disableInactive(deps.disableInactiveDays ?? 0);
      if (disabled.length > 0) deps.logger.info({ users: disabled, inactiveDays: deps.disableInactiveDays }, 'inactive accounts disabled');
    } catch (err) {
      deps.logger.error({ err }, 'could not disable inactive accounts');
    }
    // Sealing rides on the same one-per-deployment schedule; a failure must not fail retention.
    try {
      const sealed = await seals?.seal();
      if (sealed) deps.logger.info({ seq: sealed.seq, events: sealed.count, upTo: sealed.toAt.toISOString() }, 'audit trail sealed');
    } catch (err) {
      deps.logger.error({ err }, 'could not seal the audit trail');
    }
    return report;
  };
}

export interface RetentionServiceOptions extends RetentionJobDeps {
  connection: ConnectionOptions;
  prefix: string;
  intervalMinutes: number;
  /** Start consuming (default true); false = only keep the schedule. */
  runWorker?: boolean;
}

/** Upserts the schedule and starts a worker for the maintenance queue. */
export async function startRetentionService(opts: RetentionServiceOptions) {
  const log = opts.logger.child({ component: 'retention' });
  const queue = new Queue(MAINTENANCE_QUEUE, { connection: opts.connection, prefix: opts.prefix });
  await queue.upsertJobScheduler(
    RETENTION_SCHEDULER_ID,
    { every: opts.intervalMinutes * 60_000 },
    { name: RETENTION_JOB, data: {}, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 }, attempts: 3, backoff: { type: 'exponential', delay: 60_000 } } },
  );
  const handle = createRetentionHandler(opts);
  let worker: Worker | null = null;
  if (opts.runWorker ?? true) {
    worker = new Worker(
      MAINTENANCE_QUEUE,
      async (job: Job) => {
        if (job.name !== RETENTION_JOB) throw new Error(`unknown maintenance job "${job.name}"`);
        return handle(job);
      },
      { connection: opts.connection, prefix: opts.prefix, concurrency: 1 },
    );
    worker.on('failed', (job, err) => log.error({ jobId: job?.id, err: err.message }, 'retention job failed'));
    worker.on('error', onceEvery((err, suppressed) => log.error({ err: err.message, suppressed }, 'maintenance worker error')));
  }
  log.info({ everyMinutes: opts.intervalMinutes, retentionDays: opts.retentionDays }, 'retention scheduled');
  return {
    queue,
    worker,
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}

export type RetentionService = Awaited<ReturnType<typeof startRetentionService>>;
