/**
 * Escalation of unhandled alerts with BullMQ delayed jobs (rules in
 * src/domain/escalation.ts):
 *   - the scheduler adds an 'alert.escalate' job, delayed until the alert's
 *     deadline, when an alert is created (worker) or dispatched (API);
 *   - the handler re-reads the alert when the job fires and does nothing if it
 *     moved on (so jobs are never cancelled); otherwise it raises the level in a
 *     compare-and-set write with an AuditEvent (actor SYSTEM, alert.escalated),
 *     announces alert.updated, and schedules the next level.
 * Job ids are deterministic, so a retried producer or a re-announced alert
 * never adds a second timer for the same deadline.
 */
import { Queue, UnrecoverableError, type ConnectionOptions, type Job, type JobsOptions, type Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Db } from '../../db/client.ts';
import { createAlertRepository, type AlertRecord, type AlertRepository } from '../../db/repositories/alerts.ts';
import { toAlertEvent } from '../../services/alert-view.ts';
import type { Announcer } from '../../services/announcer.ts';
import {
  decideEscalation,
  escalationJobId,
  escalationNote,
  planEscalation,
  validatePolicy,
  type EscalationDecision,
  type EscalationPlan,
  type EscalationPolicy,
  type EscalationView,
} from '../../domain/escalation.ts';
import type { AlertEvent } from '../../realtime/events.ts';
import { QUEUES, type EscalationJob, type JobMap } from '../jobs.ts';
import { createQueueWorker } from '../worker.ts';
import { onceEvery } from '../../system/logger.ts';

export const ESCALATION_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export interface EscalationScheduler {
  readonly policy: EscalationPolicy;
  /** Adds the plan's delayed job (a no-op if a job with its id exists). */
  schedule(plan: EscalationPlan): Promise<void>;
  /** Plans the next check for the alert as it is now and schedules it; null when none applies. */
  watch(alert: EscalationView): Promise<EscalationPlan | null>;
  /** watch() from an announced alert: `enteredAt` is when it entered its current status. */
  watchEvent(alert: Pick<AlertEvent, 'id' | 'status' | 'escalationLevel' | 'createdAt'>, enteredAt: Date): Promise<EscalationPlan | null>;
  close(): Promise<void>;
}

export interface EscalationSchedulerOptions {
  /**
   * Connection options, or an ioredis instance (cast) to share — the API passes its
   * fail-fast producer connection so a request never hangs on Redis.
   */
  connection: ConnectionOptions;
  prefix: string;
  policy: EscalationPolicy;
  logger: Logger;
  now?: () => number;
}

export function createEscalationScheduler(opts: EscalationSchedulerOptions): EscalationScheduler {
  const policy = validatePolicy(opts.policy);
  const now = opts.now ?? Date.now;
  const queue = new Queue<EscalationJob>(QUEUES.alerts, { connection: opts.connection, prefix: opts.prefix });
  // An error per reconnect attempt while Redis is away: at most one line every 10 s.
  queue.on('error', onceEvery((err, suppressed) => opts.logger.warn({ err: err.message, suppressed }, 'escalation queue error')));

  const scheduler: EscalationScheduler = {
    policy,
    async schedule(plan) {
      const jobId = escalationJobId(plan);
      const delay = Math.max(0, plan.dueAt.getTime() - now());
      const data: EscalationJob = { alertId: plan.alertId, expectStatus: plan.expectStatus, level: plan.level };
      await queue.add('alert.escalate' satisfies keyof JobMap, data, { ...ESCALATION_JOB_OPTIONS, jobId, delay });
      opts.logger.debug({ alertId: plan.alertId, jobId, delayMs: delay }, 'escalation scheduled');
    },
    async watch(alert) {
      const plan = planEscalation(alert, policy);
      if (plan) await scheduler.schedule(plan);
      return plan;
    },
    watchEvent(alert, enteredAt) {
      return scheduler.watch({
        id: alert.id,
        status: alert.status,
        escalationLevel: alert.escalationLevel,
        createdAt: new Date(alert.createdAt),
        dispatchedAt: alert.status === 'NEW' ? null : enteredAt,
        escalatedAt: null,
      });
    },
    async close() {
      await queue.close();
    },
  };
  return scheduler;
}

export interface EscalateHandlerDeps {
  alerts: AlertRepository;
  /** Announces escalations (sockets, webhooks…). */
  announcer: Announcer;
  scheduler: Pick<EscalationScheduler, 'schedule' | 'watch' | 'policy'>;
  logger: Logger;
  now?: () => Date;
}

export type EscalateResult = { action: EscalationDecision['kind']; reason?: string; level?: number };

export function parseEscalationJob(data: unknown): EscalationJob {
  const d = data as Partial<EscalationJob> | null;
  if (!d || typeof d !== 'object') throw new UnrecoverableError('escalation job payload is not an object');
  if (typeof d.alertId !== 'string' || d.alertId === '') throw new UnrecoverableError('escalation job alertId is missing');
  if (d.expectStatus !== 'NEW' && d.expectStatus !== 'DISPATCHED') {
    throw new UnrecoverableError(`escalation job expectStatus must be NEW or DISPATCHED, got ${JSON.stringify(d.expectStatus)}`);
  }
  if (!Number.isInteger(d.level) || (d.level as number) < 0) throw new UnrecoverableError(`escalation job level must be a non-negative integer, got ${JSON.stringify(d.level)}`);
  return { alertId: d.alertId, expectStatus: d.expectStatus, level: d.level as number };
}

export function createEscalateHandler(deps: EscalateHandlerDeps) {
  const now = deps.now ?? (() => new Date());
  const { policy } = deps.scheduler;

  const load = (id: string): Promise<AlertRecord | null> => deps.alerts.findWithCamera(id);

  /** Re-announces the alert as stored and watches it for its next level. */
  const announce = async (alert: AlertRecord) => {
    await deps.announcer.announce({ kind: 'escalated', alert: toAlertEvent(alert), level: alert.escalationLevel });
    await deps.scheduler.watch(alert);
  };

  return async function handleEscalate(job: Job<EscalationJob>): Promise<EscalateResult> {
    const check = parseEscalationJob(job.data);
    const log = deps.logger.child({ jobId: job.id, alertId: check.alertId, attempt: job.attemptsMade + 1 });
    const at = now();
    const alert = await load(check.alertId);
    const decision = decideEscalation(alert, check, policy, at, { retry: job.attemptsMade > 0 });

    switch (decision.kind) {
      case 'skip':
        log.debug({ reason: decision.reason }, 'escalation not needed');
        return { action: 'skip', reason: decision.reason };
      case 'reschedule':
        if (escalationJobId(decision.plan) === job.id) {
          // Fired early by more than the clock tolerance: a retry (with backoff) checks again.
          throw new Error(`escalation ${job.id} fired before its deadline ${decision.plan.dueAt.toISOString()}`);
        }
        await deps.scheduler.schedule(decision.plan);
        log.debug({ dueAt: decision.plan.dueAt.toISOString() }, 'escalation deadline moved: rescheduled');
        return { action: 'reschedule' };
      case 'announce':
        await announce(alert!);
        log.info({ level: decision.level }, 'escalation re-announced after a failed attempt');
        return { action: 'announce', level: decision.level };
      case 'escalate': {
        const note = escalationNote(decision.reason, decision.level, decision.waitedSeconds, policy);
        // Compare-and-set: only if nobody handled (or escalated) the alert since we read it.
        const written = await deps.alerts.escalate({
          alertId: check.alertId,
          expectStatus: check.expectStatus,
          expectLevel: check.level,
          level: decision.level,
          at,
          details: {
            status: check.expectStatus,
            level: decision.level,
            reason: decision.reason,
            overdueSeconds: decision.overdueSeconds,
            unitId: alert!.assignedUnitId,
            note,
          },
        });
        if (!written) {
          log.debug('alert changed while escalating: skipped');
          return { action: 'skip', reason: 'changed_meanwhile' };
        }
        const updated = await load(check.alertId);
        if (updated) await announce(updated);
        log.info({ level: decision.level, reason: decision.reason, status: check.expectStatus, overdueSeconds: decision.overdueSeconds }, 'alert escalated');
        return { action: 'escalate', reason: decision.reason, level: decision.level };
      }
    }
  };
}

/**
 * Schedules the timer of every open alert that should have one (deterministic ids:
 * existing timers are not duplicated). Run at worker start, it restores timers an
 * API could not enqueue (Redis away during a dispatch) or that Redis lost.
 * Returns how many alerts were (re)scheduled.
 */
export async function resumeEscalationTimers(prisma: Db, scheduler: Pick<EscalationScheduler, 'watch' | 'policy'>, logger: Logger, batch = 500): Promise<number> {
  const alerts = createAlertRepository(prisma);
  let scheduled = 0;
  let after: string | undefined;
  for (;;) {
    const rows = await alerts.openForEscalation(scheduler.policy.maxLevel, after, batch);
    for (const row of rows) if (await scheduler.watch(row)) scheduled++;
    if (rows.length < batch) break;
    after = rows[rows.length - 1]!.id;
  }
  logger.info({ alerts: scheduled }, 'escalation timers of open alerts ensured');
  return scheduled;
}

export interface EscalationWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  prisma: Db;
  /** Announces escalations (the worker's announcer: sockets, webhooks…). */
  announcer: Announcer;
  scheduler: EscalationScheduler;
  logger: Logger;
  concurrency?: number;
  autorun?: boolean;
  now?: () => Date;
}

/** The BullMQ Worker consuming the alerts queue (light: a few DB queries per job). */
export function createEscalationWorker(opts: EscalationWorkerOptions): Worker<EscalationJob> {
  return createQueueWorker({
    queue: QUEUES.alerts,
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency ?? 4,
    autorun: opts.autorun,
    logger: opts.logger,
    handlers: {
      'alert.escalate': createEscalateHandler({
        alerts: createAlertRepository(opts.prisma),
        announcer: opts.announcer,
        scheduler: opts.scheduler,
        logger: opts.logger.child({ component: 'escalation' }),
        now: opts.now,
      }),
    },
  }) as Worker<EscalationJob>;
}
