/**
 * A real OpenID Connect provider for tests: panva's oidc-provider (certified),
 * with its development sign-in page (any password; the login name becomes the
 * subject), on a free port of this host. Accounts are given per test; consent
 * is granted as an agency's directory grants it to its own applications.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { type FindAccount } from 'oidc-provider';

export interface TestIdp {
  issuer: string;
  /** Registers MaskWatch as a client (confidential: id and secret) with this redirect URI; again with the same id adds a redirect URI (another API of the same deployment). */
  addClient(client: { clientId: string; clientSecret: string; redirectUri: string }): void;
  /** What the directory says of a login name (default: preferred_username = the name). */
  profiles: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startTestIdp(): Promise<TestIdp> {
  const server = http.createServer((req, res) => {
    if (!provider) {
      res.writeHead(503).end('no client registered yet');
      return;
    }
    provider.callback()(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const profiles = new Map<string, Record<string, unknown>>();
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  let provider: Provider | null = null;
  const clients = new Map<string, { secret: string; redirectUris: string[] }>();
  const findAccount: FindAccount = (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, ...(profiles.get(id) ?? { preferred_username: id }) }),
  });

  return {
    issuer,
    profiles,
    addClient(client) {
      const redirectUris = [...(clients.get(client.clientId)?.redirectUris ?? []), client.redirectUri];
      clients.set(client.clientId, { secret: client.clientSecret, redirectUris });
      provider = new Provider(issuer, {
        clients: [...clients].map(([id, c]) => ({
          client_id: id,
          client_secret: c.secret,
          redirect_uris: c.redirectUris,
          // MaskWatch's own address: where the provider's sign-out page sends the browser back.
          post_logout_redirect_uris: c.redirectUris.map((uri) => new URL('/', uri).href),
          grant_types: ['authorization_code'],
          response_types: ['code'],
        })),
        findAccount,
        // Groups as Keycloak or Entra ID send them, with the profile.
        claims: { openid: ['sub'], profile: ['preferred_username', 'name', 'groups'] },
        jwks: { keys: [{ ...signingKey, kid: 'test', alg: 'RS256', use: 'sig' }] },
        cookies: { keys: [randomBytes(16).toString('hex')] },
        pkce: { required: () => true },
        ttl: { Grant: 3600, Session: 3600, AccessToken: 600, IdToken: 600, Interaction: 600, AuthorizationCode: 60 },
        // A first-party application of the directory: no consent page.
        async loadExistingGrant(ctx) {
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId });
          grant.addOIDCScope('openid profile');
          await grant.save();
          return grant;
        },
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Cookies per origin, as a browser keeps them (enough for these two servers: no paths or expiry). */
class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();
  header(url: string): string {
    return [...(this.byOrigin.get(new URL(url).origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  store(url: string, res: Response): void {
    const jar = this.byOrigin.get(new URL(url).origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(line) || value === '') jar.delete(pair!.slice(0, eq));
      else jar.set(pair!.slice(0, eq), value);
    }
    this.byOrigin.set(new URL(url).origin, jar);
  }
  get(url: string, name: string): string | undefined {
    return this.byOrigin.get(new URL(url).origin)?.get(name);
  }
}

/**
 * A browser signing on: from MaskWatch's start route through the provider's sign-in page (as `login`)
 * back to MaskWatch's callback, which answers with the dashboard address. `tamper` may change the
 * callback's URL before it is requested (an attacker's replay, a forged state).
 */
export async function signOnAsBrowser(
  apiUrl: string,
  login: string,
  opts: { tamper?: (callback: URL) => URL; cancel?: boolean } = {},
): Promise<{ landing: string; callbackCookies: string[]; jar: CookieJar; exchange(): Promise<Response> }> {
  const jar = new CookieJar();
  const request = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) } });
    jar.store(url, res);
    return res;
  };
  let res = await request(`${apiUrl}/api/v1/auth/sso/start`);
  let url = `${apiUrl}/api/v1/auth/sso/start`;
  for (let hops = 0; hops < 12; hops++) {
    if (res.status >= 300 && res.status < 400) {
      url = new URL(res.headers.get('location')!, url).href;
      if (url.startsWith(`${apiUrl}/api/v1/auth/sso/callback`)) {
        const target = opts.tamper ? opts.tamper(new URL(url)).href : url;
        const back = await request(target);
        if (back.status !== 302) throw new Error(`callback answered ${back.status}: ${await back.text()}`);
        return {
          landing: back.headers.get('location')!,
          callbackCookies: back.headers.getSetCookie(),
          jar,
          exchange: () => request(`${apiUrl}/api/v1/auth/sso/exchange`, { method: 'POST' }),
        };
      }
      if (url.startsWith(apiUrl)) return { landing: url.slice(apiUrl.length), callbackCookies: [], jar, exchange: () => request(`${apiUrl}/api/v1/auth/sso/exchange`, { method: 'POST' }) };
      res = await request(url);
      continue;
    }
    const page = await res.text();
    if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${page.slice(0, 300)}`);
    if (opts.cancel) {
      const abort = /href="([^"]+\/abort)"/.exec(page)?.[1];
      if (!abort) throw new Error(`no way to cancel on ${url}`);
      url = new URL(abort.replace(/&amp;/g, '&'), url).href;
      res = await request(url);
      continue;
    }
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    if (!action) throw new Error(`no sign-in form on ${url}: ${page.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    res = await request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ prompt: 'login', login, password: 'directory password' }).toString() });
  }
  throw new Error('the sign-on did not come back to MaskWatch');
}
