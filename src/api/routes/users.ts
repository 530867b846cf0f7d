import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf } from '../auth-guard.ts';
import { problemResponses } from '../problem.ts';
import { bearerSecurity } from '../schemas/common.ts';
import { UserInputSchema, UserSummarySchema, type UserInput } from '../../contracts/api.ts';

const userSchema = UserSummarySchema;

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

  app.post<{ Body: UserInput }>(
    '/api/v1/users',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: 'Create a user (an OFFICER needs a unit call sign; only officers belong to a unit; usernames are unique regardless of case)',
        security: bearerSecurity,
        body: UserInputSchema,
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
