import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../context.ts';
import { HttpProblem, problemResponses } from '../problem.ts';
import { HANDOFF_TTL_MS, SIGN_ON_TTL_MS, SsoError } from '../../auth/sso.ts';
import { loginAnswerSchema, originOf, requireAcceptedNotice } from './auth.ts';
import { publicOrigin } from '../public-origin.ts';
import { SsoExchangeSchema, SsoOfferSchema, type SsoExchange, type SsoOffer } from '../../contracts/api.ts';

const CALLBACK_PATH = '/api/v1/auth/sso/callback';
const EXCHANGE_PATH = '/api/v1/auth/sso/exchange';
// Each cookie is sent only to the one route that reads it.
const PENDING_COOKIE = { name: 'mw_sso', path: CALLBACK_PATH, maxAgeMs: SIGN_ON_TTL_MS, sameSite: 'Lax' };
const HANDOFF_COOKIE = { name: 'mw_sso_handoff', path: EXCHANGE_PATH, maxAgeMs: HANDOFF_TTL_MS, sameSite: 'Strict' };
type CookieSpec = typeof PENDING_COOKIE;

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined; // not a value this server set
      }
    }
  }
  return undefined;
}

/**
 * HttpOnly (no script reads them), Secure when browsers reach MaskWatch over https. The pending cookie is
 * Lax: it must come back on the provider's top-level redirect. The handoff cookie is Strict: only the
 * dashboard's own call sends it.
 */
function cookieHeader(ctx: ApiContext, request: FastifyRequest, spec: CookieSpec, value: string | null): string {
  const maxAge = value === null ? 0 : Math.floor(spec.maxAgeMs / 1000);
  const secure = publicOrigin(ctx.config, request).startsWith('https:') ? '; Secure' : '';
  return `${spec.name}=${value === null ? '' : encodeURIComponent(value)}; Path=${spec.path}; Max-Age=${maxAge}; HttpOnly; SameSite=${spec.sameSite}${secure}`;
}

/** Back to the dashboard's sign-in page, which finishes the sign-on or explains why it did not. */
function toSignInPage(reply: FastifyReply, outcome: { done: true } | { error: string }, cookies: string[]) {
  const query = 'done' in outcome ? 'sso=done' : `sso-error=${outcome.error}`;
  return reply.code(302).header('cache-control', 'no-store').header('set-cookie', cookies).redirect(`/#/login?${query}`);
}

export async function ssoRoutes(app: FastifyInstance, ctx: ApiContext) {
  const tag = ['auth'];
  const notConfigured = () => new HttpProblem(404, 'single sign-on is not configured on this server (MASKWATCH_SSO_ISSUER)', 'sso-disabled');

  app.get(
    '/api/v1/auth/sso',
    {
      schema: {
        tags: tag,
        summary: 'Whether single sign-on is offered, and the sign-in button\'s text (no login needed)',
        response: { 200: SsoOfferSchema },
      },
    },
    async (): Promise<SsoOffer> => {
      const groups = ctx.sso ? ctx.config.security.sso?.groups : null;
      return { enabled: ctx.sso !== undefined, label: ctx.sso?.label ?? null, rolesFromGroups: Boolean(groups?.roles), zonesFromGroups: Boolean(groups?.zones) };
    },
  );

  app.get(
    '/api/v1/auth/sso/start',
    {
      schema: {
        tags: tag,
        summary: 'Begin single sign-on: a browser navigation, answered 302 to the provider\'s sign-in page',
        description:
          'Sets a sealed, HttpOnly cookie (10 min) with the state, nonce and PKCE verifier the callback checks. ' +
          'When the provider does not answer, 302 to `/#/login?sso-error=unavailable`. 404 sso-disabled without MASKWATCH_SSO_ISSUER.',
        response: { 302: { type: 'null', description: 'to the provider' }, ...problemResponses },
      },
    },
    async (request, reply) => {
      if (!ctx.sso) throw notConfigured();
      const redirectUri = `${publicOrigin(ctx.config, request)}${CALLBACK_PATH}`;
      try {
        const { url, sealed } = await ctx.sso.begin(redirectUri);
        return reply.code(302).header('cache-control', 'no-store').header('set-cookie', cookieHeader(ctx, request, PENDING_COOKIE, sealed)).redirect(url);
      } catch (err) {
        if (!(err instanceof SsoError)) throw err;
        request.log.warn({ err: err.message }, 'single sign-on could not begin');
        return toSignInPage(reply, { error: err.failure }, []);
      }
    },
  );

  app.get(
    CALLBACK_PATH,
    {
      schema: {
        tags: tag,
        summary: 'Where the provider sends the browser back (its redirect URI): 302 to the dashboard',
        description:
          'Checks the answer (state, PKCE, the ID token\'s signature, issuer, audience and nonce) and finds the account: the one linked to the directory subject, ' +
          'else, at its first sign-on, the one whose username equals the username claim (MASKWATCH_SSO_USERNAME_CLAIM, letter case aside), which is then linked. ' +
          'Success: 302 to `/#/login?sso=done` with a sealed, HttpOnly, SameSite=Strict cookie (60 s) for POST /api/v1/auth/sso/exchange. ' +
          'With MASKWATCH_SSO_ROLE_GROUPS / MASKWATCH_SSO_ZONE_GROUPS, the groups claim (MASKWATCH_SSO_GROUPS_CLAIM) then sets the account\'s role and a dispatcher\'s zones (audited as user.update with source "directory"); ' +
          'with MASKWATCH_SSO_CREATE_ACCOUNTS, a person of a role group (not an officer) without an account gets one, linked (user.create with source "directory"). ' +
          'Failure: 302 to `/#/login?sso-error=` `expired` | `denied` | `failed` | `unavailable` | `no-account` | `disabled` | `linked-elsewhere` | `no-access` (no group gives access) | `needs-unit` (the directory makes them an officer, without a patrol unit yet) (audited as auth.login_failed).',
        querystring: { type: 'object', additionalProperties: { type: 'string', maxLength: 4096 } },
        response: { 302: { type: 'null', description: 'to the dashboard' } },
      },
    },
    async (request, reply) => {
      const clearPending = cookieHeader(ctx, request, PENDING_COOKIE, null);
      if (!ctx.sso) return toSignInPage(reply, { error: 'unavailable' }, [clearPending]);
      try {
        const identity = await ctx.sso.finish(new URL(request.url, 'http://callback').searchParams, readCookie(request, PENDING_COOKIE.name));
        const account = await ctx.services.directorySignOn.account(identity, request.ip);
        if (!account.ok) return toSignInPage(reply, { error: account.reason }, [clearPending]);
        const handoff = cookieHeader(ctx, request, HANDOFF_COOKIE, await ctx.sso.sealHandoff(account.userId));
        return toSignInPage(reply, { done: true }, [clearPending, handoff]);
      } catch (err) {
        if (!(err instanceof SsoError)) throw err;
        request.log.warn({ err: err.message, failure: err.failure }, 'single sign-on failed');
        return toSignInPage(reply, { error: err.failure }, [clearPending]);
      }
    },
  );

  app.get(
    '/api/v1/auth/sso/logout',
    {
      schema: {
        tags: tag,
        summary: 'End the provider\'s session too, after logging out of a single sign-on session: a browser navigation, 302 to the provider',
        description:
          'For shared computers: without it the next person\'s "Sign in with…" would come back signed on as the last one. Log out first (POST /api/v1/auth/logout), then navigate here. ' +
          '302 to the provider\'s end-session endpoint (OpenID Connect RP-initiated logout) with `post_logout_redirect_uri` = this server\'s `/` (register it at the provider); ' +
          '302 to `/#/login` when single sign-on is off or the provider has no such endpoint.',
        response: { 302: { type: 'null', description: 'to the provider, or to the sign-in page' } },
      },
    },
    async (request, reply) => {
      const url = await ctx.sso?.logoutUrl(`${publicOrigin(ctx.config, request)}/`);
      return reply.code(302).header('cache-control', 'no-store').redirect(url ?? '/#/login');
    },
  );

  app.post<{ Body: SsoExchange }>(
    EXCHANGE_PATH,
    {
      schema: {
        tags: tag,
        summary: 'Collect the session of a finished single sign-on (the dashboard calls it on `#/login?sso=done`)',
        description:
          'Reads the cookie the callback set and answers like a login. The session is a single sign-on one: the directory\'s sign-in policy applies to it, ' +
          'so MaskWatch\'s own password change and two-factor enrolment are not asked (mustChangePassword and mfaSetupRequired are false); its renewals stay single sign-on. ' +
          'Audited as auth.login with signInMethod sso. 401 sso-expired without a valid cookie of the last 60 s. ' +
          'While a sign-in notice is set, the body is `{noticeVersion}` (400 notice-not-accepted otherwise, and the cookie stays for a retry).',
        body: SsoExchangeSchema,
        response: { 200: loginAnswerSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      if (!ctx.sso) throw notConfigured();
      const noticeVersion = request.body?.noticeVersion;
      requireAcceptedNotice(ctx, noticeVersion);
      reply.header('cache-control', 'no-store').header('set-cookie', cookieHeader(ctx, request, HANDOFF_COOKIE, null));
      let result = null;
      try {
        result = await ctx.auth.ssoLogin(await ctx.sso.openHandoff(readCookie(request, HANDOFF_COOKIE.name)), originOf(request, noticeVersion));
      } catch (err) {
        if (!(err instanceof SsoError)) throw err;
      }
      if (!result) throw new HttpProblem(401, 'no finished single sign-on in this browser, or it is older than a minute: sign on again', 'sso-expired');
      request.log.info({ userId: result.user.id }, 'user signed on');
      return { token: result.token, expiresAt: result.expiresAt.toISOString(), user: result.user };
    },
  );
}
