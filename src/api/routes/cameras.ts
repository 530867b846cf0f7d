import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity, uuidParam } from '../schemas/common.ts';
import { CameraSchema, CameraWithKeySchema } from '../../contracts/api.ts';
import type { CameraPatch } from '../../db/repositories/cameras.ts';
import { MAX_CONFIRM_WINDOW } from '../../domain/people.ts';

const cameraSchema = CameraSchema;
const cameraWithKeySchema = CameraWithKeySchema;

const editable = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  address: { type: ['string', 'null'], maxLength: 500 },
  latitude: { type: 'number', minimum: -90, maximum: 90 },
  longitude: { type: 'number', minimum: -180, maximum: 180 },
  zone: { type: ['string', 'null'], maxLength: 100 },
  confirmFrames: {
    type: ['integer', 'null'],
    minimum: 1,
    maximum: MAX_CONFIRM_WINDOW,
    description: 'k of n person confirmation (≤ confirmWindow); 1 with confirmWindow 1 for a snapshot camera; null = deployment default',
  },
  confirmWindow: { type: ['integer', 'null'], minimum: 1, maximum: MAX_CONFIRM_WINDOW, description: 'n of k of n; null = deployment default' },
} as const;

interface CameraBody {
  name: string;
  latitude: number;
  longitude: number;
  address?: string | null;
  zone?: string | null;
  confirmFrames?: number | null;
  confirmWindow?: number | null;
}

export async function cameraRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });
  const loggedIn = requireUser(ctx.auth);
  const cameras = ctx.services.cameras;

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
    async (request, reply) => reply.code(201).send(await cameras.create(request.body, userOf(request))),
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
    async () => ({ items: await cameras.list() }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/cameras/:id',
    {
      onRequest: loggedIn,
      schema: { tags: ['cameras'], security: bearerSecurity, params: uuidParam, response: { 200: cameraSchema, ...problemResponses } },
    },
    async (request) => cameras.get(request.params.id),
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
    async (request) => cameras.update(request.params.id, request.body, userOf(request)),
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
    async (request) => cameras.rotateKey(request.params.id, userOf(request)),
  );
}
