/** The webhook delivery log: every attempt (audit actions webhook.delivered / webhook.failed), newest first. */
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { PageKey } from '../db/repositories/paging.ts';
import type { WebhookDelivery } from '../contracts/api.ts';

/** Audit actions written by the webhook worker (src/notify/webhooks.ts), one per attempt. */
export const DELIVERY_OUTCOMES = { delivered: 'webhook.delivered', failed: 'webhook.failed' } as const satisfies Record<WebhookDelivery['outcome'], string>;
export type DeliveryOutcome = keyof typeof DELIVERY_OUTCOMES;

interface DeliveryDetails {
  target?: string;
  event?: string;
  delivery?: string;
  attempt?: number;
  status?: number | null;
  ms?: number;
  error?: string;
  willRetry?: boolean;
}

export function createWebhookDeliveryService(deps: { audit: AuditRepository }) {
  return {
    async list(q: { outcome?: DeliveryOutcome; target?: string; after: PageKey | null; take: number }) {
      const rows = await deps.audit.page({
        actions: q.outcome ? [DELIVERY_OUTCOMES[q.outcome]] : Object.values(DELIVERY_OUTCOMES),
        // details is JSON text: the target filter matches its serialised field.
        detailsContain: q.target ? JSON.stringify({ target: q.target }).slice(1, -1) : undefined,
        after: q.after,
        take: q.take,
      });
      return rows.map((r) => {
        const d = JSON.parse(r.details ?? '{}') as DeliveryDetails;
        return {
          id: r.id,
          at: r.at.toISOString(),
          outcome: (r.action === DELIVERY_OUTCOMES.delivered ? 'delivered' : 'failed') as DeliveryOutcome,
          target: d.target ?? '',
          event: d.event ?? '',
          alertId: r.subjectId,
          delivery: d.delivery ?? '',
          attempt: d.attempt ?? 1,
          status: d.status ?? null,
          ms: d.ms ?? null,
          error: d.error ?? null,
          willRetry: d.willRetry ?? false,
        };
      });
    },
  };
}

export type WebhookDeliveryService = ReturnType<typeof createWebhookDeliveryService>;
