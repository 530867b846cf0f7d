/** Entry point: session, routing between the login, dispatcher, officer and admin views. */
import { Api, ApiError, type SecondFactorAnswer, type Session } from './api.ts';
import type { MountView, ViewContext } from './context.ts';
import { h, replaceChildren } from './dom.ts';
import { clearImageCache } from './images.ts';
import { closeAlertNotifications } from './notifications.ts';
import { connectRealtime, type Realtime } from './realtime.ts';
import { acceptedNotice, clearSession, forgetAcceptedNotice, hashDetail, loadSession, resolveRoute, sameAccess, SSO_LOGOUT_URL, takeSsoReturn, routeOfHash, routesFor, saveSession, type Route, type StoredSession } from './session.ts';
import { createSessionKeeper } from './session-keeper.ts';
import { lifeFromResponse } from './session-renewal.ts';
import { unlockAudio } from './sound.ts';
import { mountAdmin } from './views/admin.ts';
import { openPasswordDialog } from './views/password-dialog.ts';
import { openMfaManageDialog, openMfaSetupDialog, openSecurityKeySetupDialog } from './views/mfa-dialog.ts';
import { openAccountDialog } from './views/account-dialog.ts';
import { mountDispatcher } from './views/dispatcher.ts';
import { renderLogin } from './views/login.ts';
import { mountOfficer } from './views/officer.ts';
import { confirmSignOutWithUnsent } from './views/unsent-dialog.ts';
import { describeEntry, storedOutbox } from './outbox.ts';

const app = document.getElementById('app')!;
let session: StoredSession | null = loadSession();
// Back from the agency's sign-in page: the session is the one the server hands over now, not one that ended in this tab.
if (routeOfHash(location.hash) === 'login' && hashDetail(location.hash).query.get('sso') === 'done') {
  session = null;
  clearSession();
}
let realtime: Realtime | null = null;
let unmount: (() => void) | null = null;
/** Only a change of view remounts; a view's own part of the hash (admin tab, selected alert) is its business. */
let mountedRoute: string | null = null;

const api = new Api(
  () => session?.token ?? null,
  // The page stays; a dialog asks for the password again (see session-keeper.ts).
  () => keeper.expired(),
);

const keeper = createSessionKeeper({
  api,
  get: () => session,
  update(token, life, user) {
    if (!session) return;
    const kept = sameAccess(session.user, user);
    session = { ...session, token, user, life: life ?? session.life };
    saveSession(session);
    // Signed in again after an admin changed what this user may see: start over from the new access.
    if (!kept) return location.reload();
    // The server revokes the old token: keep the live connection by moving it onto the new one.
    realtime?.renew(token);
  },
  resumed: () => {
    // Signed in again after an admin's reset ("must change", two-factor removed): set the account up first.
    if (setupPending()) {
      void requireAccountSetup().then(() => {
        render();
        realtime?.reconnect();
      });
    } else realtime?.reconnect();
  },
  signOut: () => signOut(),
});

const VIEWS: Record<Exclude<Route, 'login'>, { mount: MountView; title: string }> = {
  dispatch: { mount: mountDispatcher, title: 'Dispatch' },
  officer: { mount: mountOfficer, title: 'My unit' },
  admin: { mount: mountAdmin, title: 'Administration' },
};

function signOut(): void {
  const wasToken = session?.token;
  const wasSso = session?.signInMethod === 'sso';
  session = null;
  keeper.stop();
  clearSession();
  // The next person at this screen reads and accepts the sign-in notice for themselves.
  forgetAcceptedNotice();
  clearImageCache();
  // What this user's notifications said (places, counts) is not for the next person at this screen.
  void closeAlertNotifications();
  realtime?.close();
  realtime = null;
  // keepalive: the request outlives the page when it goes on to the provider's sign-out.
  const loggedOut = wasToken
    ? fetch('/api/v1/auth/logout', { method: 'POST', keepalive: true, headers: { authorization: `Bearer ${wasToken}` } }).catch(() => undefined)
    : Promise.resolve();
  location.hash = '#/login';
  render();
  // Signed on through the directory: sign out there too, or the next person at this computer is signed on as this one.
  if (wasSso) void loggedOut.then(() => location.assign(SSO_LOGOUT_URL));
}

/** The header's Log out: an officer with steps or notes not sent yet is told, and may stay signed in. */
async function signOutUnlessUnsent(s: StoredSession): Promise<void> {
  const waiting = storedOutbox(localStorage, s.user.id).map(describeEntry);
  if (waiting.length > 0 && !(await confirmSignOutWithUnsent(waiting))) return;
  signOut();
}

async function signIn(username: string, password: string, answer?: SecondFactorAnswer): Promise<void> {
  // The sign-in click is a user gesture: let this page play alert sounds from now on.
  unlockAudio();
  const sentAt = Date.now();
  await startSession(await api.login(username, password, answer, acceptedNotice()), sentAt, 'password');
}

/** Back from the agency's sign-in page (`#/login?sso=done`): collect the session the server holds for this browser. */
async function finishSingleSignOn(): Promise<void> {
  const sentAt = Date.now();
  await startSession(await api.ssoExchange(acceptedNotice()), sentAt, 'sso');
}

async function startSession(res: { token: string; expiresAt?: string; user?: Session['user'] }, sentAt: number, signInMethod: 'password' | 'sso'): Promise<void> {
  session = { token: res.token, user: res.user ?? { id: '', username: '', role: 'DISPATCHER', unitId: null }, signInMethod };
  if (res.expiresAt) session.life = lifeFromResponse(res.expiresAt, null, sentAt) ?? undefined;
  if (!res.user) session.user = await api.me();
  saveSession(session);
  keeper.start();
  await requireAccountSetup();
  if (!session) return; // logged out from the dialog
  // Back from signing on again: the view it was left from, if this user may see it.
  const back = signInMethod === 'sso' ? takeSsoReturn() : null;
  location.hash = back && resolveRoute(back, session.user) === routeOfHash(back) ? back : `#/${resolveRoute('', session.user)}`;
  render();
}

/**
 * A password set by someone else (the first admin's from the environment, or an
 * admin's reset) is replaced before anything else is shown: the server refuses
 * every other route until then.
 */
async function requirePasswordChange(): Promise<void> {
  const s = session;
  if (!s?.user.mustChangePassword) return;
  replaceChildren(app);
  const changed = await openPasswordDialog({
    title: 'Choose your own password',
    description: `The password of ${s.user.username} was given to you by someone else. Choose your own before you continue.`,
    askCurrent: true,
    submitLabel: 'Change password',
    cancellable: false,
    leave: { label: 'Log out', action: () => signOut() },
    submit: ({ current, next }) => api.changeOwnPassword(current, next),
  });
  if (changed && session) {
    session = { ...session, user: { ...session.user, mustChangePassword: false } };
    saveSession(session);
  }
}

/** A role that must sign in with two factors (MASKWATCH_MFA_REQUIRED) sets them up before anything else. */
async function requireMfaSetup(): Promise<void> {
  const s = session;
  if (!s?.user.mfaSetupRequired) return;
  replaceChildren(app);
  const done = await openMfaSetupDialog(api, s.user.username, { cancellable: false, leave: { label: 'Log out', action: () => signOut() } });
  if (done && session) markMfa(true);
}

function markMfa(enabled: boolean): void {
  if (!session) return;
  session = { ...session, user: { ...session.user, mfaEnabled: enabled, mfaSetupRequired: false } };
  saveSession(session);
}

/** A role that must sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED) adds one before anything else. */
async function requireSecurityKey(): Promise<void> {
  if (!session?.user.securityKeySetupRequired) return;
  replaceChildren(app);
  const added = await openSecurityKeySetupDialog(api, { cancellable: false, leave: { label: 'Log out', action: () => signOut() } });
  if (added && session) {
    session = { ...session, user: { ...session.user, securityKeySetupRequired: false } };
    saveSession(session);
  }
}

/** Whether the server refuses everything else until the account is set up. */
const setupPending = () => !!(session?.user.mustChangePassword || session?.user.mfaSetupRequired || session?.user.securityKeySetupRequired);

/** What the server refuses everything else for until it is done: a password set by someone else, a missing second factor or key. */
async function requireAccountSetup(): Promise<void> {
  await requirePasswordChange();
  const mfaWasDue = session?.user.mfaSetupRequired ?? false;
  await requireMfaSetup();
  // Keys are added under two-factor sign-in: only once it is on can the server say whether one is due.
  if (mfaWasDue && session) {
    session = { ...session, user: await api.me() };
    saveSession(session);
  }
  await requireSecurityKey();
}

/** The header's account button: password, two-factor sign-in, sessions. */
function openAccount(s: StoredSession): void {
  void openAccountDialog(api, s.user, {
    changePassword: () =>
      void openPasswordDialog({
        title: 'Change your password',
        description: 'Your other sessions end; this one stays.',
        askCurrent: true,
        submitLabel: 'Change password',
        cancellable: true,
        submit: ({ current, next }) => api.changeOwnPassword(current, next),
      }),
    manageMfa: () => manageMfa(s),
  });
}

/** Two-factor sign-in: set it up; once on, new recovery codes or turn it off. */
function manageMfa(s: StoredSession): void {
  const changed = s.user.mfaEnabled ? openMfaManageDialog(api, s.user.username) : openMfaSetupDialog(api, s.user.username, { cancellable: true });
  void changed.then((ok) => {
    if (!ok) return;
    markMfa(!s.user.mfaEnabled);
    render();
  });
}

function header(route: Route, rt: Realtime, s: StoredSession): HTMLElement {
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
  // A dispatcher limited to zones sees which: an empty feed then reads as "quiet in my zones", not "quiet everywhere".
  const zoneText = s.user.zones && s.user.zones.length > 0 ? ` · ${s.user.zones.join(', ')}` : '';
  const el = h(
    'header',
    { class: 'topbar' },
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '◉'), h('span', {}, 'MaskWatch'), h('span', { class: 'brand-sub' }, 'Command center')),
    nav,
    h(
      'div',
      { class: 'who' },
      conn,
      // On a phone the role is left out (`.who .user`), the name stays: officers manage their account there too.
      // The name holds the visible text (WCAG 2.5.3), so a voice-control user can say what they see.
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => openAccount(s), 'aria-label': `${s.user.username} · ${s.user.role}${zoneText}: your account` }, s.user.username, h('span', { class: 'user' }, ` · ${s.user.role}${zoneText}`)),
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => void signOutUnlessUnsent(s) }, 'Log out'),
    ),
  );
  // Sticky columns and toasts sit just below the header, whose height changes when it wraps (narrow screens).
  const sized = new ResizeObserver(() => document.documentElement.style.setProperty('--topbar-h', `${el.offsetHeight}px`));
  sized.observe(el);
  (el as HTMLElement & { dispose?: () => void }).dispose = () => {
    offConn();
    sized.disconnect();
  };
  return el;
}

/**
 * After a reconnect: a zone renamed meanwhile (Admin › Zones) keeps the dispatcher's session but drops their
 * socket; the page takes the new names, or its zone filter would hide the renamed zone's alerts.
 */
async function followZoneRename(): Promise<void> {
  const before = session;
  if (!before || before.user.role !== 'DISPATCHER') return;
  const me = await api.me().catch(() => null);
  if (!me || session !== before || sameAccess(me, before.user) || !sameAccess({ ...me, zones: before.user.zones }, before.user)) return;
  session = { ...before, user: { ...before.user, zones: me.zones } };
  saveSession(session);
  render();
}

function render(): void {
  unmount?.();
  unmount = null;
  const route = resolveRoute(location.hash, session?.user ?? null);
  if (route === 'login' || !session) {
    mountedRoute = 'login';
    document.title = 'Sign in · MaskWatch';
    const sso = hashDetail(location.hash).query;
    replaceChildren(app, renderLogin({ signIn, ssoOffer: api.ssoOffer().catch(() => null), notice: api.signInNotice().catch(() => null), ssoError: sso.get('sso-error'), finishSingleSignOn: sso.get('sso') === 'done' ? finishSingleSignOn : null }));
    app.querySelector<HTMLInputElement>('input[name=username]')?.focus();
    return;
  }
  // Views keep their own state after the route (admin tab, selected alert): only a wrong route is rewritten.
  if (routeOfHash(location.hash) !== route) history.replaceState(null, '', `#/${route}`);
  if (!realtime) {
    realtime = connectRealtime(() => session?.token ?? null);
    realtime.onAuthError(() => keeper.expired());
    let dropped = false;
    realtime.onConnection((state) => {
      if (state !== 'live') dropped = true;
      else if (dropped) {
        dropped = false;
        void followZoneRename();
      }
    });
  }
  const view = VIEWS[route];
  document.title = `${view.title} · MaskWatch`;
  const top = header(route, realtime, session);
  const main = h('main', { id: 'main', class: `view view-${route}` });
  replaceChildren(app, h('a', { class: 'skip', href: '#main' }, 'Skip to content'), top, main);
  mountedRoute = route;
  const ctx: ViewContext = { api, session, realtime };
  const stop = view.mount(main, ctx);
  unmount = () => {
    stop();
    (top as HTMLElement & { dispose?: () => void }).dispose?.();
  };
}

window.addEventListener('hashchange', () => {
  const next = routeOfHash(location.hash);
  if (next === mountedRoute && unmount) {
    window.dispatchEvent(new CustomEvent('maskwatch:hash'));
    return;
  }
  render();
});
window.addEventListener('unhandledrejection', (ev) => {
  if (ev.reason instanceof ApiError && ev.reason.status === 401) ev.preventDefault();
});
if (session) keeper.start();
if (setupPending()) void requireAccountSetup().then(() => render());
else render();
