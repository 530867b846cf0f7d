import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { page } from '../queries/cursor.ts';
import { DELIVERY_OUTCOMES as OUTCOMES, type DeliveryOutcome as Outcome } from '../../services/webhook-deliveries.ts';
import { bearerSecurity, dateTime, nullableString, pageQuery, pageResponse } from '../schemas/common.ts';
import { cursorOrProblem } from './alerts.ts';

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
      const rows = await ctx.services.webhookDeliveries.list({ outcome: q.outcome, target: q.target, after: cursorOrProblem(q.cursor), take: q.limit + 1 });
      return page(rows, q.limit, (r) => new Date(r.at));
    },
  );
}
