/** Entry point: session, routing between the login, dispatcher, officer and admin views. */
import { Api, ApiError, type Session } from './api.ts';
import type { MountView, ViewContext } from './context.ts';
import { h, replaceChildren } from './dom.ts';
import { clearImageCache } from './images.ts';
import { connectRealtime, type Realtime } from './realtime.ts';
import { clearSession, loadSession, resolveRoute, routesFor, saveSession, type Route } from './session.ts';
import { mountAdmin } from './views/admin.ts';
import { mountDispatcher } from './views/dispatcher.ts';
import { renderLogin } from './views/login.ts';
import { mountOfficer } from './views/officer.ts';

const app = document.getElementById('app')!;
let session: Session | null = loadSession();
let realtime: Realtime | null = null;
let unmount: (() => void) | null = null;

const api = new Api(
  () => session?.token ?? null,
  () => signOut(),
);

const VIEWS: Record<Exclude<Route, 'login'>, { mount: MountView; title: string }> = {
  dispatch: { mount: mountDispatcher, title: 'Dispatch' },
  officer: { mount: mountOfficer, title: 'My unit' },
  admin: { mount: mountAdmin, title: 'Administration' },
};

function signOut(): void {
  const wasToken = session?.token;
  session = null;
  clearSession();
  clearImageCache();
  realtime?.close();
  realtime = null;
  if (wasToken) void fetch('/api/v1/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${wasToken}` } }).catch(() => undefined);
  location.hash = '#/login';
  render();
}

async function signIn(username: string, password: string): Promise<void> {
  const res = await api.login(username, password);
  session = { token: res.token, user: res.user ?? { id: '', username, role: 'DISPATCHER', unitId: null } };
  if (!res.user) session.user = await api.me();
  saveSession(session);
  location.hash = `#/${resolveRoute('', session.user)}`;
  render();
}

function header(route: Route, rt: Realtime, s: Session): HTMLElement {
  const conn = h('span', { class: `conn conn-${rt.state}`, role: 'status', 'aria-label': 'Live connection' }, rt.state === 'live' ? 'Live' : 'Offline');
  const offConn = rt.onConnection((state) => {
    conn.className = `conn conn-${state}`;
    conn.textContent = state === 'live' ? 'Live' : 'Offline';
  });
  const nav = h(
    'nav',
    { 'aria-label': 'Views' },
    ...routesFor(s.user.role).map((r) =>
      h('a', { href: `#/${r.route}`, class: r.route === route ? 'active' : '', 'aria-current': r.route === route ? 'page' : null }, r.label),
    ),
  );
  const el = h(
    'header',
    { class: 'topbar' },
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '◉'), h('span', {}, 'MaskWatch'), h('span', { class: 'brand-sub' }, 'Command center')),
    nav,
    h('div', { class: 'who' }, conn, h('span', { class: 'user' }, `${s.user.username} · ${s.user.role}`), h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => signOut() }, 'Log out')),
  );
  (el as HTMLElement & { dispose?: () => void }).dispose = offConn;
  return el;
}

function render(): void {
  unmount?.();
  unmount = null;
  const route = resolveRoute(location.hash, session?.user ?? null);
  if (route === 'login' || !session) {
    document.title = 'Sign in · MaskWatch';
    replaceChildren(app, renderLogin(signIn));
    app.querySelector<HTMLInputElement>('input')?.focus();
    return;
  }
  if (location.hash !== `#/${route}`) history.replaceState(null, '', `#/${route}`);
  realtime ??= connectRealtime(session.token);
  const view = VIEWS[route];
  document.title = `${view.title} · MaskWatch`;
  const top = header(route, realtime, session);
  const main = h('main', { id: 'main', class: `view view-${route}` });
  replaceChildren(app, h('a', { class: 'skip', href: '#main' }, 'Skip to content'), top, main);
  const ctx: ViewContext = { api, session, realtime };
  const stop = view.mount(main, ctx);
  unmount = () => {
    stop();
    (top as HTMLElement & { dispose?: () => void }).dispose?.();
  };
}

window.addEventListener('hashchange', render);
window.addEventListener('unhandledrejection', (ev) => {
  if (ev.reason instanceof ApiError && ev.reason.status === 401) ev.preventDefault();
});
render();
