/**
 * The user's own account, from the header: change the password, two-factor
 * sign-in, and where they are signed in (each other session can be signed out).
 */
import type { Api } from '../api.ts';
import { h, replaceChildren } from '../dom.ts';
import { openModal } from './modal.ts';
import { sessionList } from './session-list.ts';

export interface AccountActions {
  changePassword(): void;
  manageMfa(): void;
}

export function openAccountDialog(api: Api, user: { username: string; mfaEnabled?: boolean }, actions: AccountActions): Promise<boolean> {
  return new Promise((resolve) => {
    const { body, close, cancelButton } = openModal(`Your account: ${user.username}`, 'account-dialog', { cancellable: true }, resolve);
    const then = (action: () => void) => () => {
      close(false);
      action();
    };
    const error = h('p', { class: 'form-error', role: 'alert' });
    const list = sessionList({ label: 'Where you are signed in', load: async () => (await api.sessions()).items, end: (id) => api.endSession(id), error, thisBrowser: true });

    const password = h('button', { type: 'button', class: 'btn' }, 'Change password');
    password.addEventListener('click', then(actions.changePassword));
    const mfa = h('button', { type: 'button', class: 'btn' }, user.mfaEnabled ? 'Manage two-factor sign-in' : 'Set up two-factor sign-in');
    mfa.addEventListener('click', then(actions.manageMfa));
    replaceChildren(
      body,
      h('div', { class: 'relogin' },
        h('h3', {}, 'Sign-in'),
        h('p', {}, user.mfaEnabled ? 'Password and a code from your authenticator app, or a security key.' : 'Password only.'),
        h('div', { class: 'actions' }, password, mfa),
        h('h3', {}, 'Where you are signed in'),
        list,
        error,
        h('div', { class: 'actions' }, cancelButton()),
      ),
    );
  });
}
