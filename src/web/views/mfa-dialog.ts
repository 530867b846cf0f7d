/**
 * Two-factor sign-in dialogs: setting it up (password → QR code and secret →
 * first code) and turning it off (password and a code). The setup is forced,
 * with no Cancel, when the user's role must have it.
 */
import type { Api } from '../api.ts';
import { field, h, replaceChildren } from '../dom.ts';
import { codeInput, typedCode } from '../sign-in.ts';
import { openModal, type ModalOptions } from './modal.ts';


/** Groups of four characters, as apps show secrets to be typed. */
const grouped = (secret: string) => secret.replace(/(.{4})/g, '$1 ').trim();

/** A form whose submit runs `action`, showing its error in place. */
function step(fields: HTMLElement[], submitLabel: string, extra: HTMLElement | null, action: () => Promise<void>): { form: HTMLFormElement; error: HTMLElement } {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const form = h('form', { class: 'relogin' }, ...fields, error, h('div', { class: 'actions' }, submit, extra));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    action()
      .catch((err: unknown) => {
        error.textContent = err instanceof Error ? err.message : String(err);
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return { form, error };
}

/** Resolves true once two-factor sign-in is on, false when cancelled. */
export function openMfaSetupDialog(api: Api, username: string, opts: ModalOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const { body, close, cancelButton } = openModal('Set up two-factor sign-in', 'mfa-dialog', opts, resolve);
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const first = step(
      [
        h('p', {}, opts.cancellable
          ? `From now on, ${username} signs in with the password and a code from an authenticator app on your phone.`
          : `Accounts like ${username} sign in with the password and a code from an authenticator app on your phone. Set it up before you continue.`),
        field('Password', password),
      ],
      'Continue',
      cancelButton(),
      async () => {
        const setup = await api.mfaSetup(password.value);
        const code = codeInput();
        const qr = h('img', {
          class: 'mfa-qr',
          src: `data:image/svg+xml;base64,${btoa(setup.qrSvg)}`,
          alt: 'QR code of the two-factor secret',
          width: 200,
          height: 200,
        });
        const second = step(
          [
            h('p', {}, 'Scan this code with your authenticator app (FreeOTP, Aegis, Google or Microsoft Authenticator…), or type the key into it.'),
            qr,
            h('p', {}, 'Key: ', h('code', { class: 'mfa-secret', 'data-secret': setup.secret }, grouped(setup.secret))),
            field('Code shown by the app', code),
          ],
          'Turn on',
          cancelButton(),
          async () => {
            await api.mfaEnable(typedCode(code));
            close(true);
          },
        );
        replaceChildren(body, second.form);
        code.focus();
      },
    );
    replaceChildren(body, first.form);
    password.focus();
  });
}

/** Resolves true once two-factor sign-in is off, false when cancelled. */
export function openMfaDisableDialog(api: Api): Promise<boolean> {
  return new Promise((resolve) => {
    const { body, close, cancelButton } = openModal('Turn two-factor sign-in off', 'mfa-dialog', { cancellable: true }, resolve);
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const code = codeInput();
    const { form } = step(
      [h('p', {}, 'Your password alone will sign you in again.'), field('Password', password), field('Code shown by the app', code)],
      'Turn off',
      cancelButton(),
      async () => {
        await api.mfaDisable(password.value, typedCode(code));
        close(true);
      },
    );
    replaceChildren(body, form);
    password.focus();
  });
}
