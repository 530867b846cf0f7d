/** Pieces shared by every form that signs in: the login page, the re-login dialog, two-factor setup. */
import { startAuthentication, WebAuthnError } from '@simplewebauthn/browser';
import { ApiError, type SecondFactorAnswer } from './api.ts';
import { h } from './dom.ts';

/** The account has security keys: the server's challenge came with its request for a second factor (or its refusal of a code). */
export const hasSecurityKey = (err: unknown) =>
  err instanceof ApiError && (err.code === 'mfa-required' || err.code === 'security-key-required') && err.securityKey !== undefined;

/** Why the browser would not use a security key at this page's address, or null when the address is not the cause. */
export function keyAddressProblem(err: unknown): string | null {
  if (!window.isSecureContext) return 'Security keys need MaskWatch over https.';
  if (err instanceof WebAuthnError && err.code === 'ERROR_INVALID_DOMAIN') return `Security keys cannot be used at ${location.hostname}: open MaskWatch by its host name, not an IP address.`;
  if (err instanceof WebAuthnError && err.code === 'ERROR_INVALID_RP_ID') return 'Security keys here are bound to another address (MASKWATCH_PUBLIC_URL): open MaskWatch at that address.';
  return null;
}

/** The browser's prompt for a security key was cancelled, timed out, found no key, or refused this address. */
class KeyNotUsed extends Error {}

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

/** The server asked for the code, or refused the one given (or the key prompt was not answered): show the code field. */
export const needsCode = (err: unknown) => err instanceof KeyNotUsed || (err instanceof ApiError && (err.code === 'mfa-required' || err.code === 'mfa-failed'));

/**
 * "Use security key" beside the code field: shown once the server said the account has keys; its click
 * submits the form without a code, so the browser asks for the key again.
 */
export function securityKeyButton(form: () => HTMLFormElement, code: HTMLInputElement): { button: HTMLButtonElement; showFor(err: unknown): void } {
  const button = h('button', { type: 'button', class: 'btn btn-block' }, 'Use security key');
  button.hidden = true;
  button.addEventListener('click', () => {
    code.value = '';
    code.required = false;
    form().requestSubmit();
  });
  return {
    button,
    showFor(err: unknown) {
      if (hasSecurityKey(err) || err instanceof KeyNotUsed) button.hidden = false;
    },
  };
}

/**
 * A sign-in with password and second factor: the typed code when there is one; else, when the account has
 * security keys, the browser asks for one (the same click) and signs the server's challenge. A prompt that
 * is cancelled leaves the server's request for a code, so the form offers the code field.
 */
export async function signInSteps<T>(signIn: (answer?: SecondFactorAnswer) => Promise<T>, typedCode: string | undefined): Promise<T> {
  try {
    return await signIn(typedCode ? { code: typedCode } : undefined);
  } catch (err) {
    if (typedCode || !(err instanceof ApiError) || !err.securityKey) throw err;
    let answer;
    try {
      answer = await startAuthentication({ optionsJSON: err.securityKey });
    } catch (prompt) {
      if (prompt instanceof WebAuthnError || (prompt instanceof Error && prompt.name === 'NotAllowedError')) {
        const address = keyAddressProblem(prompt);
        throw new KeyNotUsed(address ? `${address} Enter the code of your authenticator app.` : 'The security key was not used. Try it again, or enter the code of your authenticator app.');
      }
      throw prompt;
    }
    return signIn({ securityKey: answer });
  }
}

/** What a failed sign-in tells the user. */
export function signInError(err: unknown, wrongCredentials = 'Wrong username or password.'): string {
  if (err instanceof KeyNotUsed) return err.message;
  if (err instanceof ApiError && err.code === 'security-key-required') {
    return 'Accounts like yours sign in with a security key, not a code: use your key. Lost it? Ask an administrator to reset your two-factor sign-in.';
  }
  if (hasSecurityKey(err)) return 'Touch your security key, or enter the code of your authenticator app.';
  if (err instanceof ApiError && err.code === 'mfa-required') return 'Enter the 6-digit code of your authenticator app.';
  if (err instanceof ApiError && err.code === 'mfa-failed') return 'Wrong or already used code (or a key that was not accepted): try again.';
  if (err instanceof ApiError && err.code === 'sso-required') return 'This account signs in with your agency account: use the button below.';
  if (err instanceof ApiError && err.status === 401) return wrongCredentials;
  return err instanceof Error ? err.message : String(err);
}
