import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { requireUser, userOf, type RouteAccess } from '../auth-guard.ts';
import { HttpProblem, problem, problemResponses, sendProblem } from '../problem.ts';
import { publicOrigin } from '../public-origin.ts';
import { relyingPartyOf, type RegistrationResponseJSON } from '../../auth/security-keys.ts';
import { bearerSecurity, dateTime, roleEnum, uuidParam, type UuidParam } from '../schemas/common.ts';
import { sessionRoom } from '../../realtime/server.ts';
import {
  LoginRequestSchema,
  MfaCodeSchema,
  MfaDisableSchema,
  MfaRecoveryCodesSchema,
  SessionListSchema,
  PasswordConfirmationSchema,
  MfaSetupSchema,
  SecurityKeyAddSchema,
  SecurityKeyListSchema,
  SecurityKeyViewSchema,
  WebAuthnOptionsSchema,
  SignInNoticeSchema,
  type SignInNotice,
  type SecurityKeyAdd,
  type LoginRequest,
  type MfaCode,
  type MfaDisable,
  type PasswordConfirmation,
} from '../../contracts/api.ts';

export const userSchema = {
  type: 'object',
  required: ['id', 'username', 'role', 'unitId', 'zones'],
  properties: {
    id: { type: 'string' },
    username: { type: 'string' },
    role: roleEnum,
    unitId: { type: ['string', 'null'] },
    zones: {
      type: 'array',
      items: { type: 'string' },
      description: "a dispatcher's zones: they see only alerts of cameras in these zones; empty: every zone (see GET /api/v1/users)",
    },
    mustChangePassword: {
      type: 'boolean',
      description: 'true: change the password (POST /api/v1/auth/password) first; every other route answers 403 password-change-required until then',
    },
    mfaEnabled: { type: 'boolean', description: 'the account signs in with a second factor (an authenticator app\'s code)' },
    mfaSetupRequired: {
      type: 'boolean',
      description:
        'true: the role must sign in with two factors (MASKWATCH_MFA_REQUIRED) and the account has none yet; set it up (POST /api/v1/auth/mfa/setup, then /enable) first: every other route answers 403 mfa-setup-required until then',
    },
    securityKeySetupRequired: {
      type: 'boolean',
      description:
        'true: the role must sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED) and the account has none yet; add one (POST /api/v1/auth/mfa/keys/options, then /api/v1/auth/mfa/keys) first: ' +
        'every other route answers 403 security-key-setup-required until then',
    },
  },
} as const;

/** A new session: the answer of a login and of a single sign-on's exchange. */
export const loginAnswerSchema = {
  type: 'object',
  required: ['token', 'expiresAt', 'user'],
  properties: { token: { type: 'string' }, expiresAt: dateTime, user: userSchema },
} as const;

/** Where a login or renewal comes from: shown in the user's list of sessions. */
/** Where a request comes from; for a sign-in, with the version of the sign-in notice it accepted. */
export function originOf(request: FastifyRequest, noticeVersion?: string): { clientIp: string; userAgent: string | null; noticeVersion?: string } {
  return { clientIp: request.ip, userAgent: request.headers['user-agent'] ?? null, ...(noticeVersion ? { noticeVersion } : {}) };
}

/**
 * With a sign-in notice set, a sign-in must say it accepted this text: the version of it the client showed.
 * Checked before anything else of the sign-in, so a refusal changes nothing (no attempt counted, no cookie used).
 */
export function requireAcceptedNotice(ctx: ApiContext, noticeVersion: string | undefined): void {
  const notice = ctx.config.security.signInNotice;
  if (notice && noticeVersion !== notice.version) {
    throw new HttpProblem(
      400,
      noticeVersion ? 'the sign-in notice has changed since it was shown: read and accept it again' : 'read and accept the sign-in notice first (GET /api/v1/auth/sign-in-notice)',
      'notice-not-accepted',
    );
  }
}

/** The session routes stay open while the account is still being set up (see auth-guard.ts). */
const pendingSetupAllowed: RouteAccess = { allowPendingPasswordChange: true, allowPendingMfaSetup: true };
/** Enrolment itself: after the password change, if one is due. */
const pendingMfaSetupAllowed: RouteAccess = { allowPendingMfaSetup: true };

export async function authRoutes(app: FastifyInstance, ctx: ApiContext) {
  const loggedIn = requireUser(ctx.auth);
  /** The site security keys are bound to: the host name browsers use. */
  const relyingParty = (request: FastifyRequest) => relyingPartyOf(publicOrigin(ctx.config, request));

  app.post<{ Body: LoginRequest }>(
    '/api/v1/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Log in; the token is a bearer token for the API and Socket.IO (auth.token)',
        description:
          'An account with two-factor sign-in needs `code`, the 6-digit code of its authenticator app or one of its recovery codes: without it the right password is answered ' +
          '401 mfa-required (ask for the code and send username, password and code again); a wrong or already used code 401 mfa-failed. ' +
          'When the account has security keys, the 401 mfa-required problem also carries `securityKey`, a challenge for navigator.credentials.get: ' +
          'send the key\'s answer as `securityKey` (instead of `code`) with username and password again; a refused answer is 401 mfa-failed. ' +
          'A wrong password is 401 login-failed whether or not a code was sent. Wrong codes are throttled like wrong passwords (429 login-throttled). ' +
          'A role that must sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED) and has one gets 401 security-key-required for a code, which is not checked nor used up; ' +
          'the problem carries `securityKey`, the challenge, as mfa-required does. ' +
          'A role that must sign in through the directory (MASKWATCH_SSO_REQUIRED) gets 403 sso-required after the right password. ' +
          'While a sign-in notice is set (GET /api/v1/auth/sign-in-notice), `noticeVersion` must be its version: without it, or with an older one, 400 notice-not-accepted before anything is checked.',
        body: LoginRequestSchema,
        response: {
          200: loginAnswerSchema,
          ...problemResponses,
        },
      },
    },
    async (request, reply) => {
      const { username, password, code, securityKey, noticeVersion } = request.body;
      requireAcceptedNotice(ctx, noticeVersion);
      const result = await ctx.auth.loginFrom(
        username,
        password,
        originOf(request, noticeVersion),
        { code, securityKey },
        relyingParty(request),
      );
      if (!result.ok && result.reason === 'throttled') {
        const retry = String(Math.max(1, Math.ceil(result.retryAfterMs / 1000)));
        throw new HttpProblem(429, `too many failed logins from this address for this account; retry in ${retry} s`, 'login-throttled', { 'retry-after': retry });
      }
      if (!result.ok && result.reason === 'mfa-required') {
        if (!result.securityKey) throw new HttpProblem(401, 'enter the 6-digit code of your authenticator app', 'mfa-required');
        reply.header('cache-control', 'no-store');
        return sendProblem(reply, { ...problem(401, 'touch your security key, or enter the 6-digit code of your authenticator app', 'mfa-required'), securityKey: result.securityKey });
      }
      if (!result.ok && result.reason === 'mfa-failed') {
        throw new HttpProblem(401, securityKey ? 'the security key\'s answer was not accepted: sign in again' : 'wrong or already used code', 'mfa-failed');
      }
      if (!result.ok && result.reason === 'security-key-required') {
        reply.header('cache-control', 'no-store');
        const detail = 'accounts of your role sign in with their security key, not a code: touch the key (lost it? an admin can reset two-factor sign-in)';
        return sendProblem(reply, { ...problem(401, detail, 'security-key-required'), ...(result.securityKey ? { securityKey: result.securityKey } : {}) });
      }
      if (!result.ok && result.reason === 'sso-required') throw new HttpProblem(403, 'this account signs in with the agency account (single sign-on), not a password', 'sso-required');
      if (!result.ok) throw new HttpProblem(401, 'wrong username or password', 'login-failed');
      request.log.info({ userId: result.user.id }, 'user logged in');
      return { token: result.token, expiresAt: result.expiresAt.toISOString(), user: result.user };
    },
  );

  app.get(
    '/api/v1/auth/sign-in-notice',
    {
      schema: {
        tags: ['auth'],
        summary: 'The agency\'s system use notification, shown and accepted before signing in (no login needed)',
        description: 'MASKWATCH_SIGN_IN_NOTICE or MASKWATCH_SIGN_IN_NOTICE_FILE; `{text: null, version: null}` when none is set.',
        response: { 200: SignInNoticeSchema },
      },
    },
    async (): Promise<SignInNotice> => ctx.config.security.signInNotice ?? { text: null, version: null },
  );

  app.post(
    '/api/v1/auth/logout',
    {
      onRequest: loggedIn,
      config: pendingSetupAllowed,
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
      config: pendingSetupAllowed,
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
      const result = await ctx.auth.renew(request.authToken!, originOf(request));
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
      config: pendingSetupAllowed,
      schema: { tags: ['auth'], security: bearerSecurity, response: { 200: userSchema, ...problemResponses } },
    },
    async (request) => {
      const { id, username, role, unitId, zones, mustChangePassword, mfaEnabled, mfaSetupRequired, securityKeySetupRequired } = userOf(request);
      return {
        id,
        username,
        role,
        unitId,
        zones,
        mustChangePassword: mustChangePassword ?? false,
        mfaEnabled: mfaEnabled ?? false,
        mfaSetupRequired: mfaSetupRequired ?? false,
        securityKeySetupRequired: securityKeySetupRequired ?? false,
      };
    },
  );

  app.post<{ Body: PasswordConfirmation }>(
    '/api/v1/auth/mfa/setup',
    {
      onRequest: loggedIn,
      config: pendingMfaSetupAllowed,
      schema: {
        tags: ['auth'],
        summary: 'Start setting up two-factor sign-in: a new secret for an authenticator app',
        description:
          'Needs the password again (403 wrong-password), so a stolen token alone cannot bind another phone. Answers the secret as text, as an ' +
          'otpauth:// URI and as a QR code (SVG) for any TOTP app (RFC 6238: SHA-1, 6 digits, 30 s). Nothing changes until POST /api/v1/auth/mfa/enable ' +
          'confirms a code; a new setup replaces an unconfirmed one. 409 mfa-enabled when it is on already. Attempts are throttled per user (429 mfa-throttled).',
        security: bearerSecurity,
        body: PasswordConfirmationSchema,
        response: { 200: MfaSetupSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      // The secret is shown once: no cache may keep it.
      reply.header('cache-control', 'no-store');
      return ctx.services.twoFactor.beginSetup(userOf(request), request.body.password);
    },
  );

  app.post<{ Body: MfaCode }>(
    '/api/v1/auth/mfa/enable',
    {
      onRequest: loggedIn,
      config: pendingMfaSetupAllowed,
      schema: {
        tags: ['auth'],
        summary: 'Turn two-factor sign-in on with the first code of the app',
        description:
          'The code the app shows for the secret of the last setup (400 mfa-failed when wrong; 409 mfa-setup-not-started without a setup). From then on ' +
          'every login needs a code. Answers 10 recovery codes, shown this once (each signs in once without the app). ' +
          'Your other sessions end (their sockets are closed); this token stays valid. Audited as user.mfa_enable.',
        security: bearerSecurity,
        body: MfaCodeSchema,
        response: { 200: MfaRecoveryCodesSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { recoveryCodes } = await ctx.services.twoFactor.enable(userOf(request), request.body.code, request.ip);
      reply.header('cache-control', 'no-store');
      return { recoveryCodes };
    },
  );

  app.post<{ Body: PasswordConfirmation }>(
    '/api/v1/auth/mfa/recovery-codes',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['auth'],
        summary: 'A new set of recovery codes (the earlier ones stop working)',
        description:
          'Needs the password (403 wrong-password); 409 mfa-not-enabled without two-factor sign-in. Throttled per user (429 mfa-throttled). Audited as user.mfa_recovery_codes.',
        security: bearerSecurity,
        body: PasswordConfirmationSchema,
        response: { 200: MfaRecoveryCodesSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return ctx.services.twoFactor.renewRecoveryCodes(userOf(request), request.body.password, request.ip);
    },
  );

  app.post<{ Body: MfaDisable }>(
    '/api/v1/auth/mfa/disable',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['auth'],
        summary: 'Turn your two-factor sign-in off',
        description:
          'Needs the password (403 wrong-password) and a current code or a recovery code (400 mfa-failed). Refused (403 mfa-required-by-policy) when your role must sign in ' +
          'with two factors (MASKWATCH_MFA_REQUIRED or MASKWATCH_SECURITY_KEY_REQUIRED); an admin can still reset it (DELETE /api/v1/users/{id}/mfa). Audited as user.mfa_disable.',
        security: bearerSecurity,
        body: MfaDisableSchema,
        response: { 204: { type: 'null' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      await ctx.services.twoFactor.disable(userOf(request), request.body.password, request.body.code, request.ip);
      return reply.code(204).send();
    },
  );
  app.get(
    '/api/v1/auth/mfa/keys',
    {
      onRequest: loggedIn,
      config: pendingMfaSetupAllowed,
      schema: {
        tags: ['auth'],
        summary: 'Your security keys (WebAuthn / FIDO2), oldest first',
        security: bearerSecurity,
        response: { 200: SecurityKeyListSchema, ...problemResponses },
      },
    },
    async (request) => ({ items: await ctx.services.twoFactor.listKeys(userOf(request)) }),
  );

  app.post<{ Body: PasswordConfirmation }>(
    '/api/v1/auth/mfa/keys/options',
    {
      onRequest: loggedIn,
      config: pendingMfaSetupAllowed,
      schema: {
        tags: ['auth'],
        summary: 'Start adding a security key: a challenge for navigator.credentials.create',
        description:
          'Needs the password (403 wrong-password) and two-factor sign-in on with an authenticator app, the fallback for a lost key (409 mfa-not-enabled); ' +
          'at most 10 keys (409 security-key-limit). Answers PublicKeyCredentialCreationOptionsJSON, good for 5 minutes: pass it to the browser, then POST ' +
          'the answer to /api/v1/auth/mfa/keys. The key is bound to the host name browsers use (MASKWATCH_PUBLIC_URL, else the request\'s). Throttled per user (429 mfa-throttled).',
        security: bearerSecurity,
        body: PasswordConfirmationSchema,
        response: { 200: WebAuthnOptionsSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return ctx.services.twoFactor.beginKeyRegistration(userOf(request), request.body.password, relyingParty(request));
    },
  );

  app.post<{ Body: SecurityKeyAdd }>(
    '/api/v1/auth/mfa/keys',
    {
      onRequest: loggedIn,
      config: pendingMfaSetupAllowed,
      schema: {
        tags: ['auth'],
        summary: 'Add a security key: the browser\'s answer to the challenge of /api/v1/auth/mfa/keys/options',
        description:
          '201 with the key. 400 security-key-failed when the answer does not match the last challenge given to you (expired, used, another origin, a bad signature); ' +
          '409 security-key-exists for a key registered already. From then on the key passes a login\'s second factor like a code. Audited as user.security_key_add.',
        security: bearerSecurity,
        body: SecurityKeyAddSchema,
        response: { 201: SecurityKeyViewSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const key = await ctx.services.twoFactor.addKey(
        userOf(request),
        request.body.name,
        request.body.credential as RegistrationResponseJSON,
        relyingParty(request),
        request.ip,
      );
      return reply.code(201).send(key);
    },
  );

  app.delete<{ Params: UuidParam }>(
    '/api/v1/auth/mfa/keys/:id',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['auth'],
        summary: 'Remove one of your security keys (lost, or replaced)',
        description:
          '404 security-key-not-found for a key that is not yours. The authenticator app and recovery codes stay. Refused (403 security-key-required-by-policy) for your last key when ' +
          'your role must sign in with one (MASKWATCH_SECURITY_KEY_REQUIRED): add the new key first. Audited as user.security_key_remove.',
        security: bearerSecurity,
        params: uuidParam,
        response: { 204: { type: 'null' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      await ctx.services.twoFactor.removeKey(userOf(request), request.params.id, request.ip);
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/auth/sessions',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['auth'],
        summary: 'Where you are signed in: your sessions that still let you in, newest first',
        description: 'Each with when it was opened or last renewed, its client address and user agent; `current` marks this request\'s.',
        security: bearerSecurity,
        response: { 200: SessionListSchema, ...problemResponses },
      },
    },
    async (request) => {
      const self = userOf(request);
      return { items: await ctx.services.accounts.sessions(self.id, self.sessionId) };
    },
  );

  app.delete<{ Params: UuidParam }>(
    '/api/v1/auth/sessions/:id',
    {
      onRequest: loggedIn,
      schema: {
        tags: ['auth'],
        summary: 'Sign one of your sessions out (a browser left open elsewhere)',
        description:
          'Its token answers 401 at once and its Socket.IO connections are closed. 404 session-not-found for a session that is not yours, unknown or ended. ' +
          'Audited as user.session_revoke.',
        security: bearerSecurity,
        params: uuidParam,
        response: { 204: { type: 'null' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      await ctx.services.accounts.endSession(user.id, request.params.id, { type: 'USER', id: user.id, role: user.role, clientIp: request.ip });
      return reply.code(204).send();
    },
  );
}
