import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { cursorOrProblem, page } from '../queries/cursor.ts';
import { bearerSecurity, type Defaulted } from '../schemas/common.ts';
import { PageSchema, WebhookDeliveryQuerySchema, WebhookDeliverySchema, type WebhookDeliveryQuery } from '../../contracts/api.ts';

/** The webhook delivery log (every attempt, newest first), for admins. */
export async function webhookDeliveryRoutes(app: FastifyInstance, ctx: ApiContext) {
  app.get<{ Querystring: Defaulted<WebhookDeliveryQuery, 'limit'> }>(
    '/api/v1/webhooks/deliveries',
    {
      onRequest: requireUser(ctx.auth, { roles: ['ADMIN'] }),
      schema: {
        tags: ['webhooks'],
        summary: 'Webhook delivery attempts, newest first',
        security: bearerSecurity,
        querystring: WebhookDeliveryQuerySchema,
        response: { 200: PageSchema(WebhookDeliverySchema), ...problemResponses },
      },
    },
    async (request) => {
      const q = request.query;
      const rows = await ctx.services.webhookDeliveries.list({ outcome: q.outcome, target: q.target, after: cursorOrProblem('webhook-deliveries', q.cursor), take: q.limit + 1 });
      return page('webhook-deliveries', rows, q.limit, (r) => new Date(r.at));
    },
  );
}
