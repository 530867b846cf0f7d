import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';

const settingsSchema = {
  type: 'object',
  required: ['map', 'cameraSilentSeconds'],
  properties: {
    cameraSilentSeconds: {
      type: 'integer',
      description: 'An enabled camera that has sent frames but none for this long is shown as silent (MASKWATCH_CAMERA_SILENT_S; 0 = never)',
    },
    map: {
      type: 'object',
      required: ['tileUrl', 'attribution', 'maxZoom'],
      properties: {
        tileUrl: { type: ['string', 'null'], description: 'Slippy-map tile URL template ({z}/{x}/{y}); null = plain offline map' },
        attribution: { type: 'string' },
        maxZoom: { type: 'integer' },
      },
    },
  },
} as const;

/** Server-side settings the dashboard renders with (what the environment configured). */
export async function dashboardSettingsRoutes(app: FastifyInstance, ctx: ApiContext) {
  app.get(
    '/api/v1/dashboard/settings',
    {
      onRequest: requireUser(ctx.auth),
      schema: { tags: ['dashboard'], summary: 'Map tile server, the silent-camera limit and other display settings', security: bearerSecurity, response: { 200: settingsSchema, ...problemResponses } },
    },
    async () => ({ map: ctx.config.map, cameraSilentSeconds: ctx.config.cameraSilentSeconds }),
  );
}
