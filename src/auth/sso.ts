/**
 * Single sign-on: MaskWatch as an OpenID Connect relying party of the agency's
 * directory (Keycloak, Entra ID, ADFS, …), with openid-client (a certified
 * implementation): authorization code flow with PKCE, state and nonce, ID token
 * checked against the provider's keys. Nothing is kept on the server between
 * the two legs: what the callback must check travels in a cookie sealed with a
 * key derived from the server's secret key, so every instance can finish a
 * sign-on another one began.
 */
import * as oidc from 'openid-client';
import type { SsoConfig } from '../config/config.ts';
import type { SecretBox } from './secret-box.ts';
import type { SsoIdentity } from './service.ts';
import { groupsOfClaim } from './directory-groups.ts';

/** How long a browser may take at the provider's sign-in page. */
export const SIGN_ON_TTL_MS = 10 * 60_000;
/** How long the dashboard has to collect its session after the provider's answer. */
export const HANDOFF_TTL_MS = 60_000;

/** Why a sign-on did not finish, as the dashboard explains it (`#/login?sso-error=…`). */
export type SsoFailure = 'expired' | 'denied' | 'failed' | 'unavailable';

export class SsoError extends Error {
  constructor(
    readonly failure: SsoFailure,
    message: string,
  ) {
    super(message);
    this.name = 'SsoError';
  }
}

interface PendingSignOn {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  expiresAt: number;
}

interface Handoff {
  id: string;
  userId: string;
  expiresAt: number;
}

// Authenticated data of each sealed value: one kind cannot be passed off as the other.
const PENDING = 'sso pending';
const HANDOFF = 'sso handoff';

export interface SsoClientDeps {
  config: SsoConfig;
  box: () => Promise<SecretBox>;
  /** True the first time an id is claimed within ttlMs, on any instance (Redis SET NX): a handoff works once. */
  claimOnce(id: string, ttlMs: number): Promise<boolean>;
  now?: () => Date;
}

/** The provider's metadata (OpenID Connect discovery at the issuer), as sign-on and `maskwatch doctor` fetch it. */
export function discoverProvider(config: SsoConfig): Promise<oidc.Configuration> {
  const issuer = new URL(config.issuer);
  // Config allows http only for a provider on this host (src/config/config.ts).
  const options = issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined;
  return oidc.discovery(issuer, config.clientId, config.clientSecret ?? undefined, config.clientSecret ? undefined : oidc.None(), options);
}

export function createSsoClient(deps: SsoClientDeps) {
  const { config } = deps;
  const now = () => (deps.now ?? (() => new Date()))().getTime();
  let discovered: Promise<oidc.Configuration> | null = null;

  /** The provider's metadata, fetched at the first sign-on and kept; a failure is retried at the next one. */
  function provider(): Promise<oidc.Configuration> {
    discovered ??= discoverProvider(config).catch((err: unknown) => {
      discovered = null;
      throw new SsoError('unavailable', `the sign-on provider ${config.issuer} did not answer: ${(err as Error).message}`);
    });
    return discovered;
  }

  async function open<T extends { expiresAt: number }>(sealed: string | undefined, context: string): Promise<T> {
    if (!sealed) throw new SsoError('expired', 'no sign-on in progress in this browser');
    let value: T;
    try {
      value = JSON.parse((await deps.box()).open(sealed, context)) as T;
    } catch {
      throw new SsoError('expired', 'the sign-on cookie is not one this server sealed');
    }
    if (!(value.expiresAt > now())) throw new SsoError('expired', 'the sign-on took too long');
    return value;
  }

  return {
    label: config.label,

    /** Where to send the browser, and the sealed check values for its cookie. */
    async begin(redirectUri: string): Promise<{ url: string; sealed: string }> {
      const metadata = await provider();
      const pending: PendingSignOn = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        codeVerifier: oidc.randomPKCECodeVerifier(),
        redirectUri,
        expiresAt: now() + SIGN_ON_TTL_MS,
      };
      const url = oidc.buildAuthorizationUrl(metadata, {
        redirect_uri: redirectUri,
        scope: 'openid profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { url: url.href, sealed: (await deps.box()).seal(JSON.stringify(pending), PENDING) };
    },

    /** Who signed on, from the provider's answer (the callback's query) and the cookie begin() sealed. */
    async finish(query: URLSearchParams, sealed: string | undefined): Promise<SsoIdentity> {
      const pending = await open<PendingSignOn>(sealed, PENDING);
      if (query.has('error')) throw new SsoError('denied', `the provider refused: ${query.get('error')} ${query.get('error_description') ?? ''}`.trim());
      const metadata = await provider();
      const answer = new URL(pending.redirectUri);
      answer.search = query.toString();
      let subject: string;
      let claims: Record<string, unknown>;
      try {
        const tokens = await oidc.authorizationCodeGrant(metadata, answer, {
          pkceCodeVerifier: pending.codeVerifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const idToken = tokens.claims()!;
        subject = idToken.sub;
        claims = idToken;
        // Many providers put profile claims (and groups) only in the userinfo answer for the code flow.
        const missing = typeof claims[config.usernameClaim] !== 'string' || (config.groups !== null && claims[config.groups.claim] === undefined);
        if (missing && metadata.serverMetadata().userinfo_endpoint) {
          claims = { ...(await oidc.fetchUserInfo(metadata, tokens.access_token, subject)), ...idToken };
        }
      } catch (err) {
        if (err instanceof SsoError) throw err;
        throw new SsoError('failed', `the provider's answer did not check out: ${(err as Error).message}`);
      }
      const username = claims[config.usernameClaim];
      return {
        subject,
        username: typeof username === 'string' && username ? username : null,
        groups: config.groups ? groupsOfClaim(claims[config.groups.claim]) : null,
      };
    },

    /**
     * Where to send the browser so the provider ends its own session too (RP-initiated logout): on a shared
     * control-room computer, the next person must not be signed on as the last one. null when the provider
     * has no end-session endpoint, or does not answer.
     */
    async logoutUrl(postLogoutRedirectUri: string): Promise<string | null> {
      const metadata = await provider().catch(() => null);
      if (!metadata?.serverMetadata().end_session_endpoint) return null;
      return oidc.buildEndSessionUrl(metadata, { post_logout_redirect_uri: postLogoutRedirectUri }).href;
    },

    /** The cookie that carries a found account to the dashboard's exchange call. */
    async sealHandoff(userId: string): Promise<string> {
      const handoff: Handoff = { id: oidc.randomState(), userId, expiresAt: now() + HANDOFF_TTL_MS };
      return (await deps.box()).seal(JSON.stringify(handoff), HANDOFF);
    },

    /** The account of a handoff cookie, once: a copy of the cookie replayed later gets nothing. */
    async openHandoff(sealed: string | undefined): Promise<string> {
      const handoff = await open<Handoff>(sealed, HANDOFF);
      if (!(await deps.claimOnce(handoff.id, HANDOFF_TTL_MS))) throw new SsoError('expired', 'this sign-on was collected already');
      return handoff.userId;
    },
  };
}

export type SsoClient = ReturnType<typeof createSsoClient>;
