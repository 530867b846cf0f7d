/**
 * Keeps a shift-long page logged in: renews the token at half its lifetime
 * (POST /api/v1/auth/refresh), without reloading the page. When the session is
 * over anyway (revoked, server restarted with a wiped database, laptop asleep
 * past the expiry), a modal asks for the password again and the page stays as
 * it was; only "Log out" leaves it.
 */
import { ApiError, type Api, type CurrentUser } from './api.ts';
import { field, h } from './dom.ts';
import { codeInput, needsCode, securityKeyButton, signInError, signInSteps, typedCode } from './sign-in.ts';
import { lifeFromResponse, nextCheckDelay, sessionPhase, type TokenLife } from './session-renewal.ts';
import { acceptedNotice, rememberSsoReturn, SSO_START_URL, type StoredSession } from './session.ts';

export interface SessionKeeperDeps {
  api: Api;
  get(): StoredSession | null;
  /** A renewed or re-entered token: store it (the API client and the socket read it from there). */
  update(token: string, life: TokenLife | null, user: CurrentUser): void;
  /** After logging in again: reconnect and refetch (events may have been missed). */
  resumed(): void;
  signOut(): void;
  now?: () => number;
}

export interface SessionKeeper {
  start(): void;
  /** A 401 from the API or the socket: the session is over. */
  expired(): void;
  stop(): void;
}

export function createSessionKeeper(deps: SessionKeeperDeps): SessionKeeper {
  const now = deps.now ?? Date.now;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let renewing = false;
  let dialog: HTMLDialogElement | null = null;

  const schedule = (ms: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void check(), ms);
  };

  async function check(): Promise<void> {
    const s = deps.get();
    if (!s || dialog || renewing) return;
    // A session stored before renewal existed: renew now to learn its expiry.
    const phase = s.life ? sessionPhase(s.life, now()) : 'renew';
    if (phase === 'fresh') return schedule(nextCheckDelay(s.life!, now()));
    // Due or (by this page's clock, which may be off) past: ask the server, which answers 401 when it is over.
    renewing = true;
    try {
      const res = await deps.api.refresh();
      const at = now();
      const life = lifeFromResponse(new Date(at + res.expiresInSeconds * 1000).toISOString(), null, at);
      deps.update(res.token, life, res.user);
      if (life) schedule(nextCheckDelay(life, now()));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // expired() was called by the API client
      // Server or network away: try again while the token still lives.
      const cur = deps.get();
      if (cur?.life) schedule(nextCheckDelay(cur.life, now()));
      else schedule(15_000);
    } finally {
      renewing = false;
    }
  }

  const onVisible = () => {
    // Background tabs' timers are throttled: check when the dispatcher comes back.
    if (document.visibilityState === 'visible') void check();
  };

  function openDialog(): void {
    const s = deps.get();
    if (!s || dialog) return;
    if (timer) clearTimeout(timer);
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    // An account with two-factor sign-in needs a fresh code too, or its security key (asked for on submit).
    const code = codeInput({ recovery: true });
    code.required = false;
    const codeField = field('Authenticator code or recovery code', code);
    codeField.hidden = !s.user.mfaEnabled;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in again');
    const leave = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Log out');
    // Signed on through the agency's directory: sign on there again, and come back to this view.
    const signOnAgain = s.signInMethod === 'sso' ? h('a', { class: 'btn', href: SSO_START_URL }, 'Sign on again') : null;
    signOnAgain?.addEventListener('click', () => rememberSsoReturn(location.hash));
    const key = securityKeyButton(() => form, code);
    const form: HTMLFormElement = h(
      'form',
      { class: 'relogin' },
      h('h2', { id: 'relogin-title' }, 'Your session has ended'),
      h('p', { id: 'relogin-desc' }, `Sign in again as ${s.user.username} to carry on. This page stays as it is; nothing was lost.`),
      field('Password', password),
      codeField,
      key.button,
      error,
      h('div', { class: 'actions' }, ...(signOnAgain ? [signOnAgain] : []), submit, leave),
    );
    const dlg = h('dialog', { class: 'relogin-dialog', 'aria-labelledby': 'relogin-title', 'aria-describedby': 'relogin-desc' }, form);
    dialog = dlg;
    // Escape must not close it: the page behind cannot be used without a session.
    dlg.addEventListener('cancel', (ev) => ev.preventDefault());
    leave.addEventListener('click', () => {
      close();
      deps.signOut();
    });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      error.textContent = '';
      submit.disabled = true;
      const sentAt = now();
      signInSteps((answer) => deps.api.login(s.user.username, password.value, answer, acceptedNotice()), typedCode(code) || undefined)
        .then((res) => {
          deps.update(res.token, res.expiresAt ? lifeFromResponse(res.expiresAt, null, sentAt) : null, res.user ?? s.user);
          close();
          deps.resumed();
          keeper.start();
        })
        .catch((err: unknown) => {
          error.textContent = signInError(err, 'Wrong password.');
          key.showFor(err);
          if (needsCode(err)) {
            codeField.hidden = false;
            code.select();
          } else password.select();
        })
        .finally(() => {
          submit.disabled = false;
        });
    });
    document.body.append(dlg);
    dlg.showModal();
    password.focus();
  }

  function close(): void {
    dialog?.close();
    dialog?.remove();
    dialog = null;
  }

  const keeper: SessionKeeper = {
    start() {
      document.removeEventListener('visibilitychange', onVisible);
      document.addEventListener('visibilitychange', onVisible);
      void check();
    },
    expired() {
      openDialog();
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      document.removeEventListener('visibilitychange', onVisible);
      close();
    },
  };
  return keeper;
}
