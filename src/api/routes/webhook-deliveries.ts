import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { afterCursor, page } from '../queries/cursor.ts';
import { bearerSecurity, dateTime, nullableString, pageQuery, pageResponse } from '../schemas/common.ts';
import { cursorOrProblem } from './alerts.ts';

/** Audit actions written by the webhook worker (src/notify/webhooks.ts), one per attempt. */
const OUTCOMES = { delivered: 'webhook.delivered', failed: 'webhook.failed' } as const;
type Outcome = keyof typeof OUTCOMES;

const deliveryProps = {
  id: { type: 'string' },
  at: dateTime,
  outcome: { type: 'string', enum: Object.keys(OUTCOMES) },
  target: { type: 'string' },
  event: { type: 'string' },
  alertId: nullableString,
  delivery: { type: 'string', description: 'event id, the same on every attempt (receivers dedupe on it)' },
  attempt: { type: 'integer' },
  status: { type: ['integer', 'null'], description: 'HTTP status from the receiver; null when none came' },
  ms: { type: ['integer', 'null'] },
  error: nullableString,
  willRetry: { type: 'boolean' },
};

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

/** The webhook delivery log (every attempt, newest first), for admins. */
export async function webhookDeliveryRoutes(app: FastifyInstance, ctx: ApiContext) {
  app.get<{ Querystring: { outcome?: Outcome; target?: string; limit: number; cursor?: string } }>(
    '/api/v1/webhooks/deliveries',
    {
      onRequest: requireUser(ctx.auth, { roles: ['ADMIN'] }),
      schema: {
        tags: ['webhooks'],
        summary: 'Webhook delivery attempts, newest first',
        security: bearerSecurity,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { outcome: { type: 'string', enum: Object.keys(OUTCOMES) }, target: { type: 'string', maxLength: 100 }, ...pageQuery },
        },
        response: { 200: pageResponse(deliveryProps), ...problemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const key = cursorOrProblem(q.cursor);
      const and: Record<string, unknown>[] = [{ action: q.outcome ? OUTCOMES[q.outcome] : { in: Object.values(OUTCOMES) } }];
      // details is JSON text (portable across providers): the target filter matches its serialised field.
      if (q.target) and.push({ details: { contains: JSON.stringify({ target: q.target }).slice(1, -1) } });
      if (key) and.push(afterCursor('at', key));
      const rows = await ctx.prisma.auditEvent.findMany({ where: { AND: and }, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: q.limit + 1 });
      const { items, nextCursor } = page(rows, q.limit, (r) => r.at);
      return {
        nextCursor,
        items: items.map((r) => {
          const d = JSON.parse(r.details ?? '{}') as DeliveryDetails;
          return {
            id: r.id,
            at: r.at.toISOString(),
            outcome: r.action === OUTCOMES.delivered ? 'delivered' : 'failed',
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
        }),
      };
    },
  );
}
