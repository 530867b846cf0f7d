/**
 * Account lifecycle over HTTP (admin: role, unit, enabled, password reset,
 * session revocation, delete; every user: their own password). The use cases
 * and their rules live in src/services/accounts.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf, type RouteAccess } from '../auth-guard.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { bearerSecurity, userSessionParam, uuidParam, type UserSessionParam, type UuidParam } from '../schemas/common.ts';
import {
  AccountPatchSchema,
  PasswordChangeSchema,
  PasswordResetSchema,
  SessionListSchema,
  UserSummarySchema,
  type AccountPatch,
  type PasswordChange,
  type PasswordReset,
} from '../../contracts/api.ts';
import type { AccountActor } from '../../services/accounts.ts';

/** A user as the admin API returns it (GET /api/v1/users items carry the same fields). */
export const accountSchema = UserSummarySchema;

const noContent = { 204: { type: 'null' }, ...problemResponses } as const;
const ENDS_SESSIONS =
  'Ends every session of the user: their tokens answer 401 at once and their Socket.IO connections are closed within seconds on every API instance.';

function actorOf(request: FastifyRequest): AccountActor {
  const u = userOf(request);
  return { type: 'USER', id: u.id, role: u.role, clientIp: request.ip };
}

export async function accountRoutes(app: FastifyInstance, ctx: ApiContext) {
  const admin = requireUser(ctx.auth, { roles: ['ADMIN'] });
  const accounts = ctx.services.accounts;

  app.patch<{ Params: UuidParam; Body: AccountPatch }>(
    '/api/v1/users/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: "Change a user's role, unit or enabled state",
        description:
          'Changing the role or the unit, or disabling, ends every session of the user (tokens 401 at once, sockets closed within seconds). ' +
          'An OFFICER needs a unit; only officers belong to one (a role change away from OFFICER leaves the unit). The last enabled admin cannot be disabled or demoted (409 last-admin). Audited as user.update with the client IP.',
        security: bearerSecurity,
        params: uuidParam,
        body: AccountPatchSchema,
        response: { 200: accountSchema, ...problemResponses },
      },
    },
    async (request) => accounts.update(request.params.id, request.body, actorOf(request)),
  );

  app.post<{ Params: UuidParam; Body: PasswordReset }>(
    '/api/v1/users/:id/password',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: "Reset a user's password (admin)",
        description: `${ENDS_SESSIONS} Same password rules as everywhere (≥ 12 characters). mustChangePassword: the user must replace it at their next login. Audited as user.password_reset.`,
        security: bearerSecurity,
        params: uuidParam,
        body: PasswordResetSchema,
        response: noContent,
      },
    },
    async (request, reply) => {
      await accounts.resetPassword(request.params.id, request.body.password, actorOf(request), {
        mustChangePassword: request.body.mustChangePassword,
      });
      return reply.code(204).send();
    },
  );

  app.get<{ Params: UuidParam }>(
    '/api/v1/users/:id/sessions',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: "A user's sessions that still let them in (where they are signed in)",
        security: bearerSecurity,
        params: uuidParam,
        response: { 200: SessionListSchema, ...problemResponses },
      },
    },
    async (request) => ({ items: await accounts.sessions(request.params.id) }),
  );

  app.delete<{ Params: UserSessionParam }>(
    '/api/v1/users/:id/sessions/:sessionId',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: "Sign one of a user's sessions out (a browser left open on a shared or lost device)",
        description:
          'Its token answers 401 at once and its Socket.IO connections are closed; the user\'s other sessions stay. 404 session-not-found for a session that is not the user\'s, unknown or ended. ' +
          'Audited as user.session_revoke.',
        security: bearerSecurity,
        params: userSessionParam,
        response: noContent,
      },
    },
    async (request, reply) => {
      await accounts.endSession(request.params.id, request.params.sessionId, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: UuidParam }>(
    '/api/v1/users/:id/sessions',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: "Revoke all of a user's sessions (log them out everywhere)",
        description: `${ENDS_SESSIONS} Audited as user.sessions_revoke.`,
        security: bearerSecurity,
        params: uuidParam,
        response: noContent,
      },
    },
    async (request, reply) => {
      await accounts.revokeSessions(request.params.id, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: UuidParam }>(
    '/api/v1/users/:id/mfa',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: "Reset a user's two-factor sign-in (a lost or replaced phone)",
        description:
          `${ENDS_SESSIONS} The user logs in with the password alone and, if their role must have a second factor (MASKWATCH_MFA_REQUIRED), ` +
          'sets up a new one before anything else. Audited as user.mfa_reset.',
        security: bearerSecurity,
        params: uuidParam,
        response: noContent,
      },
    },
    async (request, reply) => {
      await accounts.resetMfa(request.params.id, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: UuidParam }>(
    '/api/v1/users/:id/sso',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: "Unlink a user's account from its directory identity (single sign-on)",
        description:
          `${ENDS_SESSIONS} For an account linked to the wrong directory identity, or one whose owner left the directory: the next single sign-on links it again ` +
          'by username (MASKWATCH_SSO_USERNAME_CLAIM). 409 sso-not-linked when it is not linked. Audited as user.sso_unlink, with the identity that was linked.',
        security: bearerSecurity,
        params: uuidParam,
        response: noContent,
      },
    },
    async (request, reply) => {
      await accounts.unlinkSso(request.params.id, actorOf(request));
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: UuidParam }>(
    '/api/v1/users/:id',
    {
      onRequest: admin,
      schema: {
        tags: ['users'],
        summary: 'Delete a user (anonymised: the audit trail is kept)',
        description:
          `${ENDS_SESSIONS} The account's name, password and unit are removed and it can never log in again; the row and its id stay, ` +
          'so audit events (who viewed which face, who dispatched whom) keep pointing at it. Nothing else is deleted. ' +
          'The last enabled admin cannot be deleted (409 last-admin). Audited as user.delete.',
        security: bearerSecurity,
        params: uuidParam,
        response: noContent,
      },
    },
    async (request, reply) => {
      await accounts.delete(request.params.id, actorOf(request));
      return reply.code(204).send();
    },
  );

  const selfConfig: RouteAccess = { allowPendingPasswordChange: true, allowPendingMfaSetup: true };
  app.post<{ Body: PasswordChange }>(
    '/api/v1/auth/password',
    {
      onRequest: requireUser(ctx.auth),
      config: selfConfig,
      schema: {
        tags: ['auth'],
        summary: 'Change your own password',
        description:
          'Needs the current password (403 wrong-password). Throttled like logins: per client IP by the login rate limit, and per user ' +
          '(MASKWATCH_LOGIN_MAX_FAILURES attempts per MASKWATCH_LOGIN_LOCK_S, counted before the check; 429 with Retry-After). ' +
          "Your other sessions end (their sockets are closed); this token stays valid. Clears mustChangePassword. Audited as user.password_change.",
        security: bearerSecurity,
        body: PasswordChangeSchema,
        response: noContent,
      },
    },
    async (request, reply) => {
      const result = await accounts.changeOwnPassword(userOf(request), request.body.currentPassword, request.body.newPassword, request.ip);
      if (!result.ok && result.reason === 'throttled') {
        const retry = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
        throw new HttpProblem(429, `too many password change attempts; retry in ${retry} s`, 'password-change-throttled', { 'retry-after': retry });
      }
      if (!result.ok) throw new HttpProblem(403, 'the current password is wrong', 'wrong-password');
      request.log.info({ userId: userOf(request).id, otherSessionsRevoked: result.otherSessionsRevoked }, 'password changed');
      return reply.code(204).send();
    },
  );
}
