/**
 * Two-factor sign-in dialogs: setting it up (password → QR code and secret →
 * first code → recovery codes, shown once), and, once on, security keys, new
 * recovery codes or turning it off. The setup is forced, with no Cancel, when
 * the user's role must have it.
 */
import { browserSupportsWebAuthn, startRegistration, WebAuthnError } from '@simplewebauthn/browser';
import type { Api, SecurityKeyView } from '../api.ts';
import { field, h, replaceChildren } from '../dom.ts';
import { formatDateTime } from '../format.ts';
import { codeInput, keyAddressProblem, typedCode } from '../sign-in.ts';
import { errorText } from './common.ts';
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

/**
 * Security keys (YubiKey, Titan, a phone's passkey…): the list, each with Remove, and a form that adds one
 * (the password, then the browser asks to touch the key). A key is asked for at sign-in before the code.
 */
function securityKeysPart(api: Api, opts: { required?: boolean; onAdded?: () => void } = {}): HTMLElement {
  const list = h('ul', { class: 'session-list', 'aria-label': 'Security keys' }, h('li', { class: 'muted' }, 'Loading…'));
  const listError = h('p', { class: 'form-error', role: 'alert' });

  function row(k: SecurityKeyView): HTMLElement {
    const remove = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Remove ${k.name}` }, 'Remove');
    remove.addEventListener('click', () => {
      remove.disabled = true;
      api.removeSecurityKey(k.id).then(load, (err: unknown) => {
        listError.textContent = errorText(err);
        remove.disabled = false;
      });
    });
    return h(
      'li',
      { class: 'session-row' },
      h('strong', {}, k.name),
      h('span', { class: 'muted small' }, `added ${formatDateTime(k.createdAt)} · ${k.lastUsedAt ? `last used ${formatDateTime(k.lastUsedAt)}` : 'not used yet'}`),
      remove,
    );
  }

  async function load(): Promise<void> {
    try {
      const { items } = await api.securityKeys();
      replaceChildren(list, ...(items.length ? items.map(row) : [h('li', { class: 'muted' }, 'No security key yet.')]));
    } catch (err) {
      replaceChildren(list, h('li', { class: 'form-error' }, errorText(err)));
    }
  }

  const name = h('input', { name: 'key-name', required: true, maxlength: 60, placeholder: 'e.g. blue YubiKey' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const add = step([field('Name of the key', name), field('Password', password)], 'Add key', null, async () => {
    const options = await api.securityKeyOptions(password.value);
    let credential;
    try {
      credential = await startRegistration({ optionsJSON: options });
    } catch (err) {
      // Cancelled, timed out, the key is registered already (excluded by the server's options), or the address.
      if (err instanceof WebAuthnError && err.code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED') throw new Error('This key is added already.');
      throw new Error(keyAddressProblem(err) ?? 'The key was not added: touch it when the browser asks.');
    }
    await api.addSecurityKey(name.value, credential);
    name.value = '';
    password.value = '';
    await load();
    opts.onAdded?.();
  });
  void load();
  const supported = browserSupportsWebAuthn();
  add.form.hidden = !supported;
  return h(
    'section',
    { class: 'relogin' },
    h('h3', {}, 'Security keys'),
    h(
      'p',
      {},
      opts.required
        ? 'Accounts like yours sign in with a security key you touch, not a code: it only answers this site, so a fake sign-in page gets nothing. Add one (a second as a spare, if you have it) before you continue. If it is lost, an administrator resets your two-factor sign-in.'
        : 'A key you touch at sign-in instead of typing the code. It only answers this site, so a fake sign-in page gets nothing. The app stays the way in if the key is lost.',
    ),
    list,
    listError,
    supported ? add.form : h('p', { class: 'muted small' }, keyAddressProblem(null) ?? 'This browser cannot use security keys.'),
  );
}

/** The role must sign in with a key (MASKWATCH_SECURITY_KEY_REQUIRED): resolves true once one is added, false when left. */
export function openSecurityKeySetupDialog(api: Api, opts: ModalOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const { body, close, cancelButton } = openModal('Add a security key', 'mfa-dialog', opts, resolve);
    const leave = cancelButton();
    replaceChildren(body, securityKeysPart(api, { required: true, onAdded: () => close(true) }), ...(leave ? [h('div', { class: 'actions' }, leave)] : []));
    body.querySelector('input')?.focus();
  });
}

/** Once on: security keys, new recovery codes, or turning it off. Resolves true once it is off, false otherwise. */
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
      [h('h3', {}, 'Turn off'), h('p', {}, 'Your password alone will sign you in again; your security keys are removed.'), field('Password', password), field('Code shown by the app, or a recovery code', code)],
      'Turn off',
      cancelButton(),
      async () => {
        await api.mfaDisable(password.value, typedCode(code));
        close(true);
      },
    );
    replaceChildren(body, securityKeysPart(api), renew.form, off.form);
    body.querySelector('input')?.focus();
  });
}
