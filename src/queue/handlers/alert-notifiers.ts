/**
 * Wiring of what follows an alert event beyond the dashboards, from config:
 * outbound webhooks (src/notify/webhooks.ts) and escalation timers
 * (./escalation.ts). The API only enqueues (its actions are sent to webhooks and
 * start acknowledgement timers); worker processes also deliver the webhooks.
 */
import type { ConnectionOptions, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../config/config.ts';
import type { Db } from '../../db/client.ts';
import { createAuditRepository } from '../../db/repositories/audit.ts';
import { createWebhookNotifier, createWebhookWorker, type WebhookJob, type WebhookNotifier } from '../../notify/webhooks.ts';
import { escalationChannel, webhookChannel, type AlertChannel } from '../../services/announcer.ts';
import { createEscalationScheduler, type EscalationScheduler } from './escalation.ts';

export interface AlertNotifiers {
  /** Present when MASKWATCH_WEBHOOKS names at least one target. */
  webhooks?: WebhookNotifier;
  /** Present unless MASKWATCH_ESCALATE_MAX_LEVEL is 0. */
  escalation?: EscalationScheduler;
  /** The announcer channels of the two (an action is committed: their failures are logged, not fatal). */
  channels: AlertChannel[];
  close(): Promise<void>;
}

/**
 * The API's side: job producers on the API's own fail-fast Redis connection
 * (shared, so a Redis outage makes an action's enqueue fail quickly instead of
 * hanging the request; the route logs it and still answers).
 */
export function createAlertNotifiers(opts: { config: Pick<Config, 'queuePrefix' | 'webhooks' | 'alerts'>; redis: Redis; logger: Logger }): AlertNotifiers {
  // ioredis 6's types differ slightly from the ones bullmq declares.
  const connection = opts.redis as unknown as ConnectionOptions;
  const { config, logger } = opts;
  const webhooks = config.webhooks.length > 0 ? createWebhookNotifier({ connection, prefix: config.queuePrefix, targets: config.webhooks, logger }) : undefined;
  const escalation =
    config.alerts.escalation.maxLevel > 0
      ? createEscalationScheduler({ connection, prefix: config.queuePrefix, policy: config.alerts.escalation, logger })
      : undefined;
  return {
    webhooks,
    escalation,
    channels: [webhooks && webhookChannel(webhooks), escalation && escalationChannel(escalation)].filter((c): c is AlertChannel => c !== undefined),
    async close() {
      await Promise.all([webhooks?.close(), escalation?.close()]);
    },
  };
}

export interface WebhookDelivery {
  /** The announcer channel that hands the worker's alert changes to the webhook queue. */
  channel: AlertChannel;
  worker: Worker<WebhookJob>;
  close(): Promise<void>;
}

/**
 * The worker process's side, when webhooks are configured: events it publishes
 * are enqueued for every target, and a BullMQ worker delivers them (signed,
 * retried with backoff, logged as AuditEvents). Undefined when there are no targets.
 */
export function startWebhookDelivery(opts: {
  connection: ConnectionOptions;
  prefix: string;
  targets: Config['webhooks'];
  prisma: Db;
  logger: Logger;
  concurrency?: number;
}): WebhookDelivery | undefined {
  if (opts.targets.length === 0) return undefined;
  const logger = opts.logger.child({ component: 'webhooks' });
  const notifier = createWebhookNotifier({ connection: opts.connection, prefix: opts.prefix, targets: opts.targets, logger });
  const worker = createWebhookWorker({
    connection: opts.connection,
    prefix: opts.prefix,
    targets: opts.targets,
    audit: createAuditRepository(opts.prisma),
    logger,
    concurrency: opts.concurrency,
  });
  return {
    channel: webhookChannel(notifier),
    worker,
    async close() {
      await worker.close();
      await notifier.close();
    },
  };
}
