import { ApiError } from '../api.ts';
import { field, h } from '../dom.ts';

export function renderLogin(signIn: (username: string, password: string) => Promise<void>): HTMLElement {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login-card', 'aria-labelledby': 'login-title' },
    h('div', { class: 'brand brand-large' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '◉'), h('span', {}, 'MaskWatch')),
    h('h1', { id: 'login-title' }, 'Sign in to the command center'),
    field('Username', username),
    field('Password', password),
    error,
    submit,
    h('p', { class: 'muted small' }, 'Authorised personnel only. Every action is logged.'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    signIn(username.value.trim(), password.value)
      .catch((err: unknown) => {
        error.textContent =
          err instanceof ApiError && err.status === 401 ? 'Wrong username or password.' : err instanceof Error ? err.message : String(err);
        password.select();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return h('div', { class: 'login-page' }, form);
}
