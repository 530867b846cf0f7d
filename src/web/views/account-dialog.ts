/**
 * The user's own account, from the header: change the password, two-factor
 * sign-in, and where they are signed in (each other session can be signed out).
 */
import { ApiError, type Api, type SessionView } from '../api.ts';
import { h, replaceChildren } from '../dom.ts';
import { formatDateTime } from '../format.ts';
import { errorText } from './common.ts';
import { openModal } from './modal.ts';

export interface AccountActions {
  changePassword(): void;
  manageMfa(): void;
}

/** "Chrome on Android" from a user agent; the raw string stays in the title. */
export function deviceName(userAgent: string | null): string {
  if (!userAgent) return 'Unknown client';
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : null;
  const os = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : null;
  if (browser && os) return `${browser} on ${os}`;
  return browser ?? os ?? userAgent.slice(0, 40);
}

export function openAccountDialog(api: Api, user: { username: string; mfaEnabled?: boolean }, actions: AccountActions): Promise<boolean> {
  return new Promise((resolve) => {
    const { body, close, cancelButton } = openModal(`Your account: ${user.username}`, 'account-dialog', { cancellable: true }, resolve);
    const then = (action: () => void) => () => {
      close(false);
      action();
    };
    const list = h('ul', { class: 'session-list', 'aria-label': 'Where you are signed in' }, h('li', { class: 'muted' }, 'Loading…'));
    const error = h('p', { class: 'form-error', role: 'alert' });

    function row(s: SessionView): HTMLElement {
      const end = s.current ? null : h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Sign out ${deviceName(s.userAgent)} (${s.clientIp ?? 'unknown address'})` }, 'Sign out');
      end?.addEventListener('click', () => {
        end.disabled = true;
        api.endSession(s.id).then(load, (err: unknown) => {
          // Ended meanwhile (expired, signed out elsewhere): the list is simply out of date.
          if (err instanceof ApiError && err.status === 404) return load();
          error.textContent = errorText(err);
          end.disabled = false;
        });
      });
      return h(
        'li',
        { class: 'session-row' },
        h('span', { title: s.userAgent ?? '' }, h('strong', {}, deviceName(s.userAgent)), s.current ? h('span', { class: 'badge unit-AVAILABLE' }, 'This browser') : null),
        h('span', { class: 'muted small' }, `${s.signInMethod === 'sso' ? 'single sign-on · ' : ''}${s.clientIp ?? 'unknown address'} · since ${formatDateTime(s.createdAt)} · until ${formatDateTime(s.expiresAt)}`),
        end,
      );
    }

    async function load(): Promise<void> {
      try {
        replaceChildren(list, ...(await api.sessions()).items.map(row));
      } catch (err) {
        replaceChildren(list, h('li', { class: 'form-error' }, errorText(err)));
      }
    }

    const password = h('button', { type: 'button', class: 'btn' }, 'Change password');
    password.addEventListener('click', then(actions.changePassword));
    const mfa = h('button', { type: 'button', class: 'btn' }, user.mfaEnabled ? 'Manage two-factor sign-in' : 'Set up two-factor sign-in');
    mfa.addEventListener('click', then(actions.manageMfa));
    replaceChildren(
      body,
      h('div', { class: 'relogin' },
        h('h3', {}, 'Sign-in'),
        h('p', {}, user.mfaEnabled ? 'Password and a code from your authenticator app.' : 'Password only.'),
        h('div', { class: 'actions' }, password, mfa),
        h('h3', {}, 'Where you are signed in'),
        list,
        error,
        h('div', { class: 'actions' }, cancelButton()),
      ),
    );
    void load();
  });
}
