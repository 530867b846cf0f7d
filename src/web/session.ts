/** The logged-in session, kept per browser tab. */
import type { CurrentUser, Role, Session } from './api.ts';

const KEY = 'maskwatch.session';

export function loadSession(storage: Storage = sessionStorage): Session | null {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return typeof s.token === 'string' && s.user && typeof s.user.role === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
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
  const wanted = hash.replace(/^#\/?/, '').split(/[/?]/)[0] ?? '';
  if (wanted in ALLOWED && ALLOWED[wanted as keyof typeof ALLOWED].includes(user.role)) return wanted as Route;
  return homeRoute(user.role);
}

export function routesFor(role: Role): { route: Route; label: string }[] {
  const all: { route: Exclude<Route, 'login'>; label: string }[] = [
    { route: 'dispatch', label: 'Dispatch' },
    { route: 'officer', label: 'My unit' },
    { route: 'admin', label: 'Admin' },
  ];
  return all.filter((r) => ALLOWED[r.route].includes(role));
}
