/** Pieces shared by every form that signs in: the login page, the re-login dialog, two-factor setup. */
import { ApiError } from './api.ts';
import { h } from './dom.ts';

/**
 * An authenticator code as people type it: spaces and dashes are allowed; typedCode() keeps the rest.
 * `recovery`: a recovery code (`abcde-fghij`) is accepted too, so the keyboard is not digits only.
 */
export function codeInput(opts: { recovery?: boolean } = {}): HTMLInputElement {
  return opts.recovery
    ? h('input', { name: 'code', autocomplete: 'one-time-code', autocapitalize: 'off', spellcheck: 'false', required: true, maxlength: 13, pattern: '[0-9A-Za-z \\-]{6,13}' })
    : h('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: 9, pattern: '[0-9 \\-]{6,9}', placeholder: '123 456' });
}

export const typedCode = (input: HTMLInputElement) => input.value.replace(/[\s-]/g, '');

/** The server asked for the code, or refused the one given: show the code field. */
export const needsCode = (err: unknown) => err instanceof ApiError && (err.code === 'mfa-required' || err.code === 'mfa-failed');

/** What a failed sign-in tells the user. */
export function signInError(err: unknown, wrongCredentials = 'Wrong username or password.'): string {
  if (err instanceof ApiError && err.code === 'mfa-required') return 'Enter the 6-digit code of your authenticator app.';
  if (err instanceof ApiError && err.code === 'mfa-failed') return 'Wrong or already used code: enter the code the app shows now.';
  if (err instanceof ApiError && err.code === 'sso-required') return 'This account signs in with your agency account: use the button below.';
  if (err instanceof ApiError && err.status === 401) return wrongCredentials;
  return err instanceof Error ? err.message : String(err);
}
