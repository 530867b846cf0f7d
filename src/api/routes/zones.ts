import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';
import { ZoneRenamedSchema, ZoneRenameSchema, ZoneSchema, type ZoneRename } from '../../contracts/api.ts';

export async function zoneRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });
  const zones = ctx.services.zones;

  app.get(
    '/api/v1/zones',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Every zone of a camera or of a dispatcher, with its cameras, open alerts and the dispatchers who see its alerts',
        description: 'A zone with cameras and dispatchers 0 sends its alerts to admins only. The row with zone null is the cameras without a zone.',
        security: bearerSecurity,
        response: { 200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: ZoneSchema } } }, ...problemResponses },
      },
    },
    async () => ({ items: await zones.list() }),
  );

  app.post<{ Body: ZoneRename }>(
    '/api/v1/zones/rename',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Rename a zone on every camera and in every dispatcher\'s zones at once (into an existing zone: the two merge)',
        description:
          'Audited as zone.rename. Open alerts of its cameras are announced (alert.updated), to the old zone\'s consoles too; the dispatchers keep their sessions and their live events move to the new name within seconds. ' +
          '404 zone-not-found when no camera or dispatcher has the zone. MASKWATCH_SSO_ZONE_GROUPS and MASKWATCH_WEBHOOKS name zones too: change them with it.',
        security: bearerSecurity,
        body: ZoneRenameSchema,
        response: { 200: ZoneRenamedSchema, ...problemResponses },
      },
    },
    async (request) => {
      const user = userOf(request);
      return zones.rename(request.body, { type: 'USER', id: user.id, role: user.role });
    },
  );
}
