import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, dateTime, nullableDateTime, nullableString, uuidParam } from '../schemas/common.ts';
import { hashSecret, newCameraApiKey, secretHint } from '../../auth/tokens.ts';
import type { CameraPatch, CameraRow } from '../../db/repositories/cameras.ts';
import { confirmationProblem, MAX_CONFIRM_WINDOW } from '../../domain/people.ts';

const cameraProps = {
  id: { type: 'string' },
  name: { type: 'string' },
  address: nullableString,
  latitude: { type: 'number' },
  longitude: { type: 'number' },
  zone: nullableString,
  enabled: { type: 'boolean' },
  apiKeyHint: { type: 'string', description: 'last 4 characters of the API key' },
  lastFrameAt: nullableDateTime,
  confirmFrames: { type: ['integer', 'null'], description: 'k: a person is confirmed in k of the last n frames of its track (null: deployment default)' },
  confirmWindow: { type: ['integer', 'null'], description: 'n: frames of the track looked at (null: deployment default)' },
  createdAt: dateTime,
  updatedAt: dateTime,
} as const;
const cameraSchema = { type: 'object', required: Object.keys(cameraProps), properties: cameraProps } as const;
const cameraWithKeySchema = {
  type: 'object',
  required: [...Object.keys(cameraProps), 'apiKey'],
  properties: { ...cameraProps, apiKey: { type: 'string', description: 'shown once; store it in the camera' } },
} as const;

const editable = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  address: { type: ['string', 'null'], maxLength: 500 },
  latitude: { type: 'number', minimum: -90, maximum: 90 },
  longitude: { type: 'number', minimum: -180, maximum: 180 },
  zone: { type: ['string', 'null'], maxLength: 100 },
  confirmFrames: { type: ['integer', 'null'], minimum: 1, maximum: MAX_CONFIRM_WINDOW, description: 'k of n person confirmation; 1 with confirmWindow 1 for a snapshot camera' },
  confirmWindow: { type: ['integer', 'null'], minimum: 1, maximum: MAX_CONFIRM_WINDOW },
} as const;

/** k ≤ n across the two fields (JSON schema cannot compare them): 400 with the reason. */
function checkConfirmation(k: number | null | undefined, n: number | null | undefined): void {
  const problem = confirmationProblem({ confirmFrames: k ?? undefined, confirmWindow: n ?? undefined });
  if (problem) throw new HttpProblem(400, problem, 'validation');
}

function view(c: CameraRow) {
  return {
    id: c.id,
    name: c.name,
    address: c.address,
    latitude: c.latitude,
    longitude: c.longitude,
    zone: c.zone,
    enabled: c.enabled,
    apiKeyHint: c.apiKeyHint,
    lastFrameAt: c.lastFrameAt ? c.lastFrameAt.toISOString() : null,
    confirmFrames: c.confirmFrames,
    confirmWindow: c.confirmWindow,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

interface CameraBody {
  name: string;
  latitude: number;
  longitude: number;
  address?: string | null;
  zone?: string | null;
  confirmFrames?: number | null;
  confirmWindow?: number | null;
}

/** Runs a write to the ingestion key cache; if Redis is unreachable the admin change is refused (503). */
async function propagate(write: () => Promise<void>, detail = 'cannot reach Redis to apply the change everywhere; nothing was changed, retry later'): Promise<void> {
  try {
    await write();
  } catch {
    throw new HttpProblem(503, detail, 'redis-unavailable', { 'retry-after': '5' });
  }
}

export async function cameraRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });
  const loggedIn = requireUser(ctx.auth);
  const audit = (request: Parameters<typeof userOf>[0], action: string, subjectId: string, details: Record<string, unknown>) => {
    const u = userOf(request);
    return ctx.audit.record({ actorType: 'USER', actorId: u.id, actorRole: u.role, action, subjectType: 'Camera', subjectId, details });
  };

  app.post<{ Body: CameraBody }>(
    '/api/v1/cameras',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Register a camera; the API key is returned once',
        security: bearerSecurity,
        body: { type: 'object', required: ['name', 'latitude', 'longitude'], additionalProperties: false, properties: editable },
        response: { 201: cameraWithKeySchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      checkConfirmation(request.body.confirmFrames, request.body.confirmWindow);
      const apiKey = newCameraApiKey();
      const camera = await ctx.cameras.create({
        confirmFrames: request.body.confirmFrames ?? null,
        confirmWindow: request.body.confirmWindow ?? null,
        name: request.body.name,
        latitude: request.body.latitude,
        longitude: request.body.longitude,
        address: request.body.address ?? null,
        zone: request.body.zone ?? null,
        apiKeyHash: hashSecret(apiKey),
        apiKeyHint: secretHint(apiKey),
      });
      await audit(request, 'camera.create', camera.id, { name: camera.name, zone: camera.zone });
      return reply.code(201).send({ ...view(camera), apiKey });
    },
  );

  app.get(
    '/api/v1/cameras',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['cameras'],
        security: bearerSecurity,
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: cameraSchema } } },
          ...problemResponses,
        },
      },
    },
    async () => ({ items: (await ctx.cameras.list()).map(view) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/cameras/:id',
    {
      onRequest: loggedIn,
      schema: { tags: ['cameras'], security: bearerSecurity, params: uuidParam, response: { 200: cameraSchema, ...problemResponses } },
    },
    async (request) => {
      const camera = await ctx.cameras.findById(request.params.id);
      if (!camera) throw new HttpProblem(404, `no camera ${request.params.id}`, 'not-found');
      return view(camera);
    },
  );

  app.patch<{ Params: { id: string }; Body: CameraPatch }>(
    '/api/v1/cameras/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Edit a camera; enabled=false makes its key stop working at once',
        security: bearerSecurity,
        params: uuidParam,
        body: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: { ...editable, enabled: { type: 'boolean' } },
        },
        response: { 200: cameraSchema, ...problemResponses },
      },
    },
    async (request) => {
      const before = await ctx.cameras.findById(request.params.id);
      if (!before) throw new HttpProblem(404, `no camera ${request.params.id}`, 'not-found');
      checkConfirmation(
        'confirmFrames' in request.body ? request.body.confirmFrames : before.confirmFrames,
        'confirmWindow' in request.body ? request.body.confirmWindow : before.confirmWindow,
      );
      const disabling = request.body.enabled === false;
      const enabling = request.body.enabled === true;
      // Disabling: Redis first, so no instance admits another frame once we answer.
      if (disabling) await propagate(() => ctx.gate.setEnabled(before.apiKeyHash, before.id, false));
      let camera: CameraRow | null;
      try {
        camera = await ctx.cameras.update(before.id, request.body);
      } catch (err) {
        if (disabling) await ctx.gate.forget(before.apiKeyHash).catch(() => undefined);
        throw err;
      }
      if (!camera) throw new HttpProblem(404, `no camera ${request.params.id}`, 'not-found');
      if (enabling) {
        await propagate(() => ctx.gate.forget(before.apiKeyHash), 'saved, but Redis is unreachable so ingestion still refuses this camera; retry');
      }
      const action = disabling ? 'camera.disable' : enabling ? 'camera.enable' : 'camera.update';
      await audit(request, action, camera.id, { changes: request.body });
      return view(camera);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/cameras/:id/rotate-key',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Replace the API key; the old one stops working at once, the new one is shown once',
        security: bearerSecurity,
        params: uuidParam,
        response: { 200: cameraWithKeySchema, ...problemResponses },
      },
    },
    async (request) => {
      const before = await ctx.cameras.findById(request.params.id);
      if (!before) throw new HttpProblem(404, `no camera ${request.params.id}`, 'not-found');
      // Revoke in Redis first: once we answer, no instance accepts the old key.
      await propagate(() => ctx.gate.revoke(before.apiKeyHash));
      const apiKey = newCameraApiKey();
      let camera: CameraRow | null;
      try {
        camera = await ctx.cameras.replaceKey(before.id, hashSecret(apiKey), secretHint(apiKey));
      } catch (err) {
        await ctx.gate.forget(before.apiKeyHash).catch(() => undefined); // the old key stays valid after all
        throw err;
      }
      if (!camera) throw new HttpProblem(404, `no camera ${request.params.id}`, 'not-found');
      await audit(request, 'camera.rotate_key', camera.id, { apiKeyHint: camera.apiKeyHint });
      return { ...view(camera), apiKey };
    },
  );
}
