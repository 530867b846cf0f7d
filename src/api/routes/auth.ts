import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf, type RouteAccess } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, dateTime, roleEnum } from '../schemas/common.ts';
import { sessionRoom } from '../../realtime/server.ts';
import { LoginRequestSchema, type LoginRequest } from '../../contracts/api.ts';

const userSchema = {
  type: 'object',
  required: ['id', 'username', 'role', 'unitId'],
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    role: roleEnum,
    unitId: { type: ['string', 'null'] },
    mustChangePassword: {
      type: 'boolean',
      description: 'true: change the password (POST /api/v1/auth/password) first; every other route answers 403 password-change-required until then',
    },
  },
} as const;

/** The session routes stay open while the password must still be changed (see auth-guard.ts). */
const pendingPasswordChangeAllowed: RouteAccess = { allowPendingPasswordChange: true };

export async function authRoutes(app: FastifyInstance, ctx: ApiContext) {
  const loggedIn = requireUser(ctx.auth);

  app.post<{ Body: LoginRequest }>(
    '/api/v1/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in; the token is a bearer token for the API and Socket.IO (auth.token)',
        body: LoginRequestSchema,
        response: {
          200: {
            type: 'object',
            required: ['token', 'expiresAt', 'user'],
            properties: { token: { type: 'string' }, expiresAt: dateTime, user: userSchema },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const result = await ctx.auth.loginFrom(request.body.username, request.body.password, request.ip);
      if (!result.ok && result.reason === 'throttled') {
        const retry = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
        throw new HttpProblem(429, `too many failed logins from this address for this account; retry in ${retry} s`, 'login-throttled', { 'retry-after': retry });
      }
      if (!result.ok) throw new HttpProblem(401, 'wrong username or password', 'login-failed');
      request.log.info({ userId: result.user.id }, 'user logged in');
      return { token: result.token, expiresAt: result.expiresAt.toISOString(), user: result.user };
    },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      onRequest: loggedIn,
      config: pendingPasswordChangeAllowed,
      schema: {
        tags: ['auth'],
        summary: 'Revoke the current token (and disconnect its sockets)',
        security: bearerSecurity,
        response: { 204: { type: 'null' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      await ctx.auth.logout(request.authToken!);
      // Through the Redis adapter this reaches the session's sockets on every instance.
      ctx.io?.in(sessionRoom(user.sessionId)).disconnectSockets(true);
      return reply.code(204).send();
    },
  );

  app.post(
    '/api/v1/auth/refresh',
    {
      onRequest: loggedIn,
      config: pendingPasswordChangeAllowed,
      schema: {
        tags: ['auth'],
        summary: 'Renew the session: a new token with a full lifetime; the current token is revoked',
        description:
          'For pages open longer than a token lives (a dispatcher\'s shift): call it before `expiresAt` and use the returned token from then on ' +
          '(API and Socket.IO reconnects). A socket connected with the old token must move onto the new one (emit `session.renew` with it) ' +
          'or it is dropped at the next session re-check (MASKWATCH_SESSION_CHECK_MS) and reconnects with the new token. An expired or revoked token gets 401 (log in again).',
        security: bearerSecurity,
        response: {
          200: {
            type: 'object',
            required: ['token', 'expiresAt', 'expiresInSeconds', 'user'],
            properties: {
              token: { type: 'string' },
              expiresAt: dateTime,
              expiresInSeconds: { type: 'integer', description: 'lifetime of the new token, so a client with a skewed clock can schedule the next renewal' },
              user: userSchema,
            },
          },
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const result = await ctx.auth.renew(request.authToken!);
      if (!result) throw new HttpProblem(401, 'session expired or revoked: log in again', 'session-expired');
      request.log.info({ userId: result.user.id }, 'session renewed');
      return {
        token: result.token,
        expiresAt: result.expiresAt.toISOString(),
        expiresInSeconds: Math.round((result.expiresAt.getTime() - Date.now()) / 1000),
        user: result.user,
      };
    },
  );

  app.get(
    '/api/v1/auth/me',
    {
      onRequest: loggedIn,
      config: pendingPasswordChangeAllowed,
      schema: { tags: ['auth'], security: bearerSecurity, response: { 200: userSchema, ...problemResponses } },
    },
    async (request) => {
      const { id, username, role, unitId, mustChangePassword } = userOf(request);
      return { id, username, role, unitId, mustChangePassword: mustChangePassword ?? false };
    },
  );
}
