/** The logged-in session, kept per browser tab. */
import type { CurrentUser, Role, Session } from './api.ts';
import type { TokenLife } from './session-renewal.ts';

const KEY = 'maskwatch.session';

/** The session as kept in the tab: token, user, and when the token was received and expires (page clock). */
export interface StoredSession extends Session {
  life?: TokenLife;
  /** `sso`: signed on through the agency's directory, which is also how to sign in again. */
  signInMethod?: 'password' | 'sso';
}

/** Where single sign-on begins: a navigation to the agency's sign-in page and back. */
export const SSO_START_URL = '/api/v1/auth/sso/start';
/** Where a single sign-on session's logout goes on to: the provider ends its session too. */
export const SSO_LOGOUT_URL = '/api/v1/auth/sso/logout';
const SSO_RETURN_KEY = 'maskwatch.sso-return';
const NOTICE_KEY = 'maskwatch.notice-accepted';

/**
 * The version of the sign-in notice accepted in this tab: sent with each sign-in of the tab (signing in again,
 * coming back from the agency's sign-in page) until logging out, after which the next person accepts it anew.
 */
export function acceptNotice(version: string, storage: Storage = sessionStorage): void {
  storage.setItem(NOTICE_KEY, version);
}

export function acceptedNotice(storage: Storage = sessionStorage): string | null {
  return storage.getItem(NOTICE_KEY);
}

export function forgetAcceptedNotice(storage: Storage = sessionStorage): void {
  storage.removeItem(NOTICE_KEY);
}

/** The view to come back to after signing on again (the page is left for the agency's sign-in page). */
export function rememberSsoReturn(hash: string, storage: Storage = sessionStorage): void {
  storage.setItem(SSO_RETURN_KEY, hash);
}

export function takeSsoReturn(storage: Storage = sessionStorage): string | null {
  const hash = storage.getItem(SSO_RETURN_KEY);
  storage.removeItem(SSO_RETURN_KEY);
  return hash;
}

export function loadSession(storage: Storage = sessionStorage): StoredSession | null {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as StoredSession;
    return typeof s.token === 'string' && s.user && typeof s.user.role === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: StoredSession, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}

/**
 * Whether two sign-ins of one user may see the same things (role, unit, zones). When not — an admin
 * changed them, which ended the session — the page is rebuilt rather than kept: it holds what the
 * old access showed.
 */
export function sameAccess(a: CurrentUser, b: CurrentUser): boolean {
  const zones = (u: CurrentUser) => [...(u.zones ?? [])].sort().join('\n');
  return a.id === b.id && a.role === b.role && a.unitId === b.unitId && zones(a) === zones(b);
}

export type Route = 'login' | 'dispatch' | 'officer' | 'admin';

const ALLOWED: Record<Exclude<Route, 'login'>, readonly Role[]> = {
  dispatch: ['ADMIN', 'DISPATCHER'],
  officer: ['OFFICER'],
  admin: ['ADMIN'],
};

export function homeRoute(role: Role): Route {
  return role === 'ADMIN' ? 'admin' : role === 'DISPATCHER' ? 'dispatch' : 'officer';
}

/** Which view to show for a hash and user: unknown or forbidden routes fall back to the user's home. */
export function resolveRoute(hash: string, user: CurrentUser | null): Route {
  if (!user) return 'login';
  const wanted = routeOfHash(hash);
  if (wanted in ALLOWED && ALLOWED[wanted as keyof typeof ALLOWED].includes(user.role)) return wanted as Route;
  return homeRoute(user.role);
}

/** 'admin' of '#/admin/stats?x=1'. */
export function routeOfHash(hash: string): string {
  return hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
}

/** The part of a hash after its route: '#/admin/stats' → ['stats'], with its query ('#/dispatch?alert=ID'). */
export function hashDetail(hash: string): { path: string[]; query: URLSearchParams } {
  const rest = hash.replace(/^#\/?/, '');
  const q = rest.indexOf('?');
  const path = (q < 0 ? rest : rest.slice(0, q)).split('/').filter(Boolean).slice(1);
  return { path, query: new URLSearchParams(q < 0 ? '' : rest.slice(q + 1)) };
}

export function routesFor(role: Role): { route: Route; label: string }[] {
  const all: { route: Exclude<Route, 'login'>; label: string }[] = [
    { route: 'dispatch', label: 'Dispatch' },
    { route: 'officer', label: 'My unit' },
    { route: 'admin', label: 'Admin' },
  ];
  return all.filter((r) => ALLOWED[r.route].includes(role));
}
