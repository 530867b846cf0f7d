/**
 * Two-factor sign-in dialogs: setting it up (password → QR code and secret →
 * first code → recovery codes, shown once), and, once on, new recovery codes
 * or turning it off. The setup is forced, with no Cancel, when the user's
 * role must have it.
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
            const { recoveryCodes } = await api.mfaEnable(typedCode(code));
            replaceChildren(body, recoveryCodesView(username, recoveryCodes, () => close(true)));
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

/** Recovery codes, shown once: to print, download or copy, then confirm. */
function recoveryCodesView(username: string, codes: string[], done: () => void): HTMLElement {
  const text = `MaskWatch recovery codes for ${username}\nEach signs in once without the authenticator app.\n\n${codes.join('\n')}\n`;
  const download = h('a', { class: 'btn', download: `maskwatch-recovery-codes-${username}.txt`, href: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}` }, 'Download');
  const saved = h('button', { type: 'button', class: 'btn btn-primary' }, 'I have saved them');
  saved.addEventListener('click', done);
  const view = h(
    'div',
    { class: 'relogin' },
    h('p', {}, 'Two-factor sign-in is on. Keep these recovery codes somewhere safe, apart from your phone: each one signs you in once if the phone is lost. They are not shown again.'),
    h('ol', { class: 'mfa-recovery-codes', 'aria-label': 'Recovery codes' }, ...codes.map((c) => h('li', {}, h('code', {}, c)))),
    h('div', { class: 'actions' }, saved, download),
  );
  queueMicrotask(() => saved.focus());
  return view;
}

/** Once on: new recovery codes, or turning it off. Resolves true once it is off, false otherwise. */
export function openMfaManageDialog(api: Api, username: string): Promise<boolean> {
  return new Promise((resolve) => {
    const { body, close, cancelButton } = openModal('Two-factor sign-in', 'mfa-dialog', { cancellable: true }, resolve);
    const renewPassword = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const renew = step(
      [h('h3', {}, 'New recovery codes'), h('p', {}, 'The earlier codes stop working.'), field('Password', renewPassword)],
      'Make new codes',
      null,
      async () => {
        const { recoveryCodes } = await api.mfaRecoveryCodes(renewPassword.value);
        replaceChildren(body, recoveryCodesView(username, recoveryCodes, () => close(false)));
      },
    );
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const code = codeInput({ recovery: true });
    const off = step(
      [h('h3', {}, 'Turn off'), h('p', {}, 'Your password alone will sign you in again.'), field('Password', password), field('Code shown by the app, or a recovery code', code)],
      'Turn off',
      cancelButton(),
      async () => {
        await api.mfaDisable(password.value, typedCode(code));
        close(true);
      },
    );
    replaceChildren(body, renew.form, off.form);
    renewPassword.focus();
  });
}
