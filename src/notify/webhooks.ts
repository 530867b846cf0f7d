/**
 * Outbound webhooks over BullMQ: every alert event becomes one job per
 * subscribed target; a worker POSTs it (signed), retries with exponential
 * backoff, and records each attempt in the AuditEvent table (the delivery log:
 * action webhook.delivered / webhook.failed, subject the alert).
 */
import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { AuditRepository } from '../db/repositories/audit.ts';
import { QUEUES, type JobNameOf, type WebhookJob } from '../queue/jobs.ts';

export type { WebhookJob };
import type { AlertEvent } from '../realtime/events.ts';
import type { IncidentNote } from '../contracts/api.ts';
import { isRetryable, signatureHeader, targetWants, type WebhookEventName, type WebhookPayload, type WebhookTarget } from './webhook-core.ts';
import { onceEvery } from '../system/logger.ts';

export const WEBHOOK_QUEUE = QUEUES.webhooks;
const JOB_NAME = 'webhook.deliver' satisfies JobNameOf<typeof QUEUES.webhooks>;

export interface WebhookQueueOptions {
  connection: ConnectionOptions;
  prefix: string;
  targets: readonly WebhookTarget[];
  logger: Logger;
  /** Attempts per delivery (default 8: ~2 s, 4 s … ~4 min apart). */
  attempts?: number;
  backoffMs?: number;
}

export interface WebhookNotifier {
  /**
   * Enqueues the event for every subscribed target (see targetWants); resolves once Redis has the jobs.
   * `previousZone`: the zone a camera moved out of; `note`: the note an alert.updated is about.
   */
  notify(event: WebhookEventName, alert: AlertEvent, extra?: { previousZone?: string | null; note?: IncidentNote }): Promise<void>;
  close(): Promise<void>;
}

export function createWebhookNotifier(opts: WebhookQueueOptions): WebhookNotifier {
  const queue = opts.targets.length ? new Queue<WebhookJob>(WEBHOOK_QUEUE, { connection: opts.connection, prefix: opts.prefix }) : null;
  return {
    async notify(event, alert, { previousZone = null, note } = {}) {
      if (!queue) return;
      const payload: WebhookPayload = { id: randomUUID(), event, occurredAt: new Date().toISOString(), alert, ...(note ? { note } : {}) };
      const jobs = opts.targets
        .filter((t) => targetWants(t, event, alert, previousZone))
        .map((t) => ({
          name: JOB_NAME,
          data: { target: t.name, payload },
          opts: {
            jobId: `${payload.id}_${t.name}`, // BullMQ ids may not contain ":"
            attempts: opts.attempts ?? 8,
            backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
            removeOnComplete: { age: 24 * 3600, count: 10_000 },
            removeOnFail: { age: 14 * 24 * 3600 },
          },
        }));
      if (jobs.length) await queue.addBulk(jobs);
    },
    async close() {
      await queue?.close();
    },
  };
}

export interface WebhookWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  targets: readonly WebhookTarget[];
  audit: AuditRepository;
  logger: Logger;
  concurrency?: number;
  timeoutMs?: number;
  /** Injected for tests of clock-dependent signatures; defaults to Date.now. */
  now?: () => number;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** One signed POST; throws DeliveryError on a non-2xx answer or a network failure. */
export async function deliver(target: WebhookTarget, payload: WebhookPayload, opts: { timeoutMs: number; nowMs: number; attempt: number }): Promise<number> {
  const body = JSON.stringify(payload);
  const timestamp = Math.floor(opts.nowMs / 1000);
  let res: Response;
  try {
    res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'MaskWatch-Webhook/0.1',
        'x-maskwatch-event': payload.event,
        'x-maskwatch-delivery': payload.id,
        'x-maskwatch-attempt': String(opts.attempt),
        'x-maskwatch-timestamp': String(timestamp),
        'x-maskwatch-signature': signatureHeader(target.secret, timestamp, body),
      },
      body,
      redirect: 'manual', // a redirect could carry the signed event elsewhere
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch (err) {
    throw new DeliveryError(`request failed: ${err instanceof Error ? err.message : String(err)}`, null);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300) throw new DeliveryError(`receiver answered ${res.status}`, res.status);
  return res.status;
}

export function createWebhookWorker(opts: WebhookWorkerOptions): Worker<WebhookJob> {
  const byName = new Map(opts.targets.map((t) => [t.name, t]));
  const now = opts.now ?? Date.now;
  const worker = new Worker<WebhookJob>(
    WEBHOOK_QUEUE,
    async (job: Job<WebhookJob>) => {
      const { target: name, payload } = job.data;
      const target = byName.get(name);
      if (!target) throw new UnrecoverableError(`webhook target "${name}" is no longer configured`);
      const attempt = job.attemptsMade + 1;
      const started = now();
      const log = (action: string, details: Record<string, unknown>) =>
        opts.audit.record({
          actorType: 'SYSTEM',
          action,
          subjectType: 'Alert',
          subjectId: payload.alert.id,
          details: { target: name, event: payload.event, delivery: payload.id, attempt, ...details },
        });
      try {
        const status = await deliver(target, payload, { timeoutMs: opts.timeoutMs ?? 10_000, nowMs: started, attempt });
        await log('webhook.delivered', { status, ms: now() - started });
      } catch (err) {
        const status = err instanceof DeliveryError ? err.status : null;
        const retry = isRetryable(status) && attempt < (job.opts.attempts ?? 1);
        await log('webhook.failed', { status, error: (err as Error).message, willRetry: retry });
        opts.logger.warn({ target: name, delivery: payload.id, attempt, status, willRetry: retry }, 'webhook delivery failed');
        if (!isRetryable(status)) throw new UnrecoverableError((err as Error).message);
        throw err;
      }
    },
    { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency ?? 4 },
  );
  worker.on('error', onceEvery((err, suppressed) => opts.logger.error({ err, suppressed }, 'webhook worker error')));
  return worker;
}
