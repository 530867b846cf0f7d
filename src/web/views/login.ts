import { field, h } from '../dom.ts';
import { codeInput, needsCode, signInError, typedCode } from '../sign-in.ts';

/**
 * The sign-in form. The code field appears when the server asks for it (an
 * account with two-factor sign-in), so a password-only account sees no more
 * than username and password.
 */
export function renderLogin(signIn: (username: string, password: string, code?: string) => Promise<void>): HTMLElement {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const code = codeInput({ recovery: true });
  code.required = false;
  const codeField = field('Authenticator code or recovery code', code);
  codeField.hidden = true;
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  const form = h(
    'form',
    { class: 'login-card', 'aria-labelledby': 'login-title' },
    h('div', { class: 'brand brand-large' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '◉'), h('span', {}, 'MaskWatch')),
    h('h1', { id: 'login-title' }, 'Sign in to the command center'),
    field('Username', username),
    field('Password', password),
    codeField,
    error,
    submit,
    h('p', { class: 'muted small' }, 'Authorised personnel only. Every action is logged.'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    signIn(username.value.trim(), password.value, codeField.hidden ? undefined : typedCode(code) || undefined)
      .catch((err: unknown) => {
        error.textContent = signInError(err);
        if (needsCode(err)) {
          codeField.hidden = false;
          code.required = true;
          code.select();
          code.focus();
        } else password.select();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return h('div', { class: 'login-page' }, form);
}
