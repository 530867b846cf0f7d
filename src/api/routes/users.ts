import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity, roleEnum } from '../schemas/common.ts';

const userSchema = {
  type: 'object',
  required: ['id', 'username', 'role', 'unitId'],
  properties: { id: { type: 'string' }, username: { type: 'string' }, role: roleEnum, unitId: { type: ['string', 'null'] } },
} as const;

export async function userRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });

  app.get(
    '/api/v1/users',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        security: bearerSecurity,
        response: {
          200: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: userSchema } } },
          ...problemResponses,
        },
      },
    },
    async () => ({ items: await ctx.services.users.list() }),
  );

  app.post<{ Body: { username: string; password: string; role: string; unit?: string } }>(
    '/api/v1/users',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: 'Create a user (OFFICER needs a unit call sign)',
        security: bearerSecurity,
        body: {
          type: 'object',
          required: ['username', 'password', 'role'],
          additionalProperties: false,
          properties: {
            username: { type: 'string', minLength: 3, maxLength: 64 },
            password: { type: 'string', minLength: 12, maxLength: 1024 },
            role: roleEnum,
            unit: { type: 'string', minLength: 1, maxLength: 64, description: 'patrol unit call sign' },
          },
        },
        response: { 201: userSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const actor = userOf(request);
      const user = await ctx.services.users.create(
        { ...request.body, unitCallSign: request.body.unit ?? null },
        { type: 'USER', id: actor.id, role: actor.role },
      );
      return reply.code(201).send(user);
    },
  );
}
