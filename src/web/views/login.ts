import { field, h } from '../dom.ts';
import { codeInput, needsCode, securityKeyButton, signInError, signInSteps, typedCode } from '../sign-in.ts';
import { acceptNotice, SSO_START_URL } from '../session.ts';
import { ApiError, type SecondFactorAnswer, type SignInNotice, type SsoOffer } from '../api.ts';

/** Why a single sign-on came back without a session (`#/login?sso-error=…`, src/api/routes/sso.ts). */
const SSO_ERRORS: Record<string, string> = {
  expired: 'The sign-on took too long, or was begun in another browser. Try again.',
  denied: 'The sign-on was cancelled at your agency\'s sign-in page.',
  failed: 'Your agency\'s sign-in answer could not be verified. Try again; if it keeps failing, tell your administrator.',
  unavailable: 'Your agency\'s sign-in service cannot be reached. Sign in with your MaskWatch password, or try again later.',
  'no-account': 'Your agency account has no MaskWatch account. Ask an administrator to create one with your directory username.',
  disabled: 'Your MaskWatch account is disabled.',
  'linked-elsewhere': 'This MaskWatch account is linked to another agency account. Ask an administrator.',
  'no-access': 'Your agency\'s directory gives you no access to MaskWatch (none of its MaskWatch groups). Ask an administrator.',
  'needs-unit': 'Your agency\'s directory makes you a patrol officer, and you have no patrol unit in MaskWatch yet. Ask an administrator to give you one.',
};

export interface LoginOptions {
  signIn(username: string, password: string, answer?: SecondFactorAnswer): Promise<void>;
  /** Whether the server offers single sign-on (null: it could not say). */
  ssoOffer: Promise<SsoOffer | null>;
  /** The agency's sign-in notice, to read and accept before signing in (null: it could not say). */
  notice: Promise<SignInNotice | null>;
  /** A single sign-on that came back refused. */
  ssoError: string | null;
  /** Set when the page is the return of a successful single sign-on: it collects the session. */
  finishSingleSignOn: (() => Promise<void>) | null;
}

/**
 * The sign-in form. The code field appears when the server asks for it (an
 * account with two-factor sign-in), so a password-only account sees no more
 * than username and password; an account with security keys is asked for one
 * by the browser on the same click.
 */
export function renderLogin(opts: LoginOptions): HTMLElement {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 64 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const code = codeInput({ recovery: true });
  code.required = false;
  const codeField = field('Authenticator code or recovery code', code);
  codeField.hidden = true;
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in');
  // A link, not a fetch: the agency's sign-in page is a page of its own, and comes back here.
  const ssoButton = h('a', { class: 'btn btn-block sso-button', href: SSO_START_URL }, '');
  const ssoPart = h('div', { class: 'sso-part' }, h('p', { class: 'muted small divider' }, 'or'), ssoButton);
  ssoPart.hidden = true;
  const key = securityKeyButton(() => form, code);
  // The agency's system use notification (CJIS 5.5.4): on screen until accepted, and accepted before each sign-in.
  const accept = h('input', { type: 'checkbox', name: 'notice-accepted' });
  const noticeText = h('div', { class: 'notice-text', tabindex: '0', role: 'document', 'aria-label': 'Sign-in notice' });
  const noticePart = h('section', { class: 'sign-in-notice', 'aria-labelledby': 'sign-in-notice-title' }, h('h2', { id: 'sign-in-notice-title' }, 'Notice'), noticeText, h('label', { class: 'check' }, accept, 'I have read this notice and accept its conditions'));
  noticePart.hidden = true;
  const standardNotice = h('p', { class: 'muted small' }, 'Authorised personnel only. Every action is logged.');
  let noticeVersion: string | null = null;
  const form: HTMLFormElement = h(
    'form',
    { class: 'login-card', 'aria-labelledby': 'login-title' },
    h('div', { class: 'brand brand-large' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, '◉'), h('span', {}, 'MaskWatch')),
    h('h1', { id: 'login-title' }, 'Sign in to the command center'),
    noticePart,
    field('Username', username),
    field('Password', password),
    codeField,
    error,
    submit,
    key.button,
    ssoPart,
    standardNotice,
  );
  void opts.notice.then((notice) => {
    if (!notice?.text || !notice.version) return;
    noticeVersion = notice.version;
    noticeText.textContent = notice.text;
    accept.required = true;
    noticePart.hidden = false;
    standardNotice.hidden = true;
  });
  /** Records the acceptance for this tab's sign-ins; false (and says why) while the notice is not accepted. */
  function noticeAccepted(): boolean {
    if (!noticeVersion) return true;
    if (!accept.checked) {
      error.textContent = 'Read the notice and tick that you accept it before signing in.';
      accept.focus();
      return false;
    }
    acceptNotice(noticeVersion);
    return true;
  }
  ssoButton.addEventListener('click', (ev) => {
    if (!noticeAccepted()) ev.preventDefault();
  });
  void opts.ssoOffer.then((offer) => {
    if (!offer?.enabled) return;
    ssoButton.textContent = offer.label ?? 'Sign in with your agency account';
    ssoPart.hidden = false;
  });
  if (opts.ssoError) error.textContent = SSO_ERRORS[opts.ssoError] ?? 'The sign-on did not finish. Try again.';
  if (opts.finishSingleSignOn) {
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = 'Signing you in…';
    opts.finishSingleSignOn().catch((err: unknown) => {
      error.textContent = err instanceof ApiError && err.status === 401 ? SSO_ERRORS.expired! : signInError(err);
      submit.disabled = false;
      submit.textContent = 'Sign in';
      history.replaceState(null, '', '#/login');
    });
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    error.textContent = '';
    if (!noticeAccepted()) return;
    submit.disabled = true;
    const name = username.value.trim();
    signInSteps((answer) => opts.signIn(name, password.value, answer), codeField.hidden ? undefined : typedCode(code) || undefined)
      .catch((err: unknown) => {
        error.textContent = signInError(err);
        key.showFor(err);
        if (needsCode(err)) {
          codeField.hidden = false;
          code.select();
          code.focus();
        } else password.select();
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return h('main', { class: 'login-page' }, form);
}
