/**
 * A modal asking for a new password (twice), and optionally the current one:
 * the first admin's forced change, a user's own change, an admin's reset.
 */
import { field, h, replaceChildren } from '../dom.ts';
import { openModal, type ModalOptions } from './modal.ts';

export interface PasswordDialogOptions extends ModalOptions {
  title: string;
  description: string;
  askCurrent: boolean;
  submitLabel: string;
  /** An extra checkbox (e.g. "must change at next login"), checked by default. */
  option?: string;
  submit(values: { current: string; next: string; option: boolean }): Promise<void>;
}

const MIN_LENGTH = 12;

/** Opens the dialog; resolves true once submitted successfully, false when cancelled. */
export function openPasswordDialog(opts: PasswordDialogOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const current = h('input', { name: 'currentPassword', type: 'password', autocomplete: 'current-password', required: true });
    const next = h('input', { name: 'newPassword', type: 'password', autocomplete: 'new-password', required: true, minlength: MIN_LENGTH });
    const repeat = h('input', { name: 'repeatPassword', type: 'password', autocomplete: 'new-password', required: true, minlength: MIN_LENGTH });
    const option = h('input', { type: 'checkbox', name: 'option' });
    option.checked = true;
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, opts.submitLabel);
    const { body, close, cancelButton } = openModal(opts.title, 'password-dialog', opts, resolve);
    const form = h(
      'form',
      { class: 'relogin' },
      h('p', {}, opts.description),
      opts.askCurrent ? field('Current password', current) : null,
      field('New password', next),
      field('Repeat new password', repeat),
      opts.option ? h('label', { class: 'check' }, option, ` ${opts.option}`) : null,
      h('p', { class: 'muted small' }, `At least ${MIN_LENGTH} characters.`),
      error,
      h('div', { class: 'actions' }, submit, cancelButton()),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      error.textContent = '';
      if (next.value !== repeat.value) {
        error.textContent = 'The new passwords do not match.';
        repeat.select();
        return;
      }
      if (next.value.length < MIN_LENGTH) {
        error.textContent = `The new password needs at least ${MIN_LENGTH} characters.`;
        next.select();
        return;
      }
      submit.disabled = true;
      opts
        .submit({ current: current.value, next: next.value, option: option.checked })
        .then(
          () => close(true),
          (err: unknown) => {
            error.textContent = err instanceof Error ? err.message : String(err);
          },
        )
        .finally(() => {
          submit.disabled = false;
        });
    });
    replaceChildren(body, form);
    (opts.askCurrent ? current : next).focus();
  });
}
