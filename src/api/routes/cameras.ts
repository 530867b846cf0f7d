import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity, uuidParam, type UuidParam } from '../schemas/common.ts';
import { CameraInputSchema, CameraPatchSchema, CameraSchema, CameraWithKeySchema, type CameraInput, type CameraPatch } from '../../contracts/api.ts';

export async function cameraRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });
  const loggedIn = requireUser(ctx.auth);
  const cameras = ctx.services.cameras;

  app.post<{ Body: CameraInput }>(
    '/api/v1/cameras',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Register a camera; the API key is returned once',
        security: bearerSecurity,
        body: CameraInputSchema,
        response: { 201: CameraWithKeySchema, ...problemResponses },
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
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: CameraSchema } } },
          ...problemResponses,
        },
      },
    },
    async (request) => ({ items: await cameras.list(userOf(request)) }),
  );

  app.get<{ Params: UuidParam }>(
    '/api/v1/cameras/:id',
    {
      onRequest: loggedIn,
      schema: { tags: ['cameras'], security: bearerSecurity, params: uuidParam, response: { 200: CameraSchema, ...problemResponses } },
    },
    async (request) => cameras.get(request.params.id, userOf(request)),
  );

  app.patch<{ Params: UuidParam; Body: CameraPatch }>(
    '/api/v1/cameras/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Edit a camera; enabled=false makes its key stop working at once',
        security: bearerSecurity,
        params: uuidParam,
        body: CameraPatchSchema,
        response: { 200: CameraSchema, ...problemResponses },
      },
    },
    async (request) => cameras.update(request.params.id, request.body, userOf(request)),
  );

  app.post<{ Params: UuidParam }>(
    '/api/v1/cameras/:id/rotate-key',
    {
      onRequest: admin,
      schema: {
        tags: ['cameras'],
        summary: 'Replace the API key; the old one stops working at once, the new one is shown once',
        security: bearerSecurity,
        params: uuidParam,
        response: { 200: CameraWithKeySchema, ...problemResponses },
      },
    },
    async (request) => cameras.rotateKey(request.params.id, userOf(request)),
  );
}
