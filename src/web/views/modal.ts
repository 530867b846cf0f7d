/** A modal dialog with a title, for forms: Escape and Cancel close it only when it may be cancelled. */
import { h } from '../dom.ts';

export interface ModalOptions {
  /** false: the page cannot be used until it is done (Escape does nothing). */
  cancellable: boolean;
  /** Shown instead of Cancel when not cancellable (e.g. Log out). */
  leave?: { label: string; action(): void };
}

export interface Modal {
  /** Where the dialog's content goes. */
  body: HTMLElement;
  close(ok: boolean): void;
  /** A new Cancel (or leave) button for a form's actions; null when there is neither. */
  cancelButton(): HTMLButtonElement | null;
}

/** Opens the dialog at once; `resolve` gets true or false when it closes. */
export function openModal(title: string, className: string, opts: ModalOptions, resolve: (ok: boolean) => void): Modal {
  const titleId = `modal-title-${Math.random().toString(36).slice(2)}`;
  const body = h('div', {});
  const dialog = h('dialog', { class: `relogin-dialog ${className}`, 'aria-labelledby': titleId }, h('div', { class: 'relogin' }, h('h2', { id: titleId }, title), body));
  const close = (ok: boolean) => {
    dialog.close();
    dialog.remove();
    resolve(ok);
  };
  dialog.addEventListener('cancel', (ev) => {
    ev.preventDefault();
    if (opts.cancellable) close(false);
  });
  const cancelButton = () => {
    if (!opts.cancellable && !opts.leave) return null;
    const b = h('button', { type: 'button', class: 'btn btn-ghost' }, opts.cancellable ? 'Cancel' : opts.leave!.label);
    b.addEventListener('click', () => {
      close(false);
      if (!opts.cancellable) opts.leave?.action();
    });
    return b;
  };
  document.body.append(dialog);
  dialog.showModal();
  return { body, close, cancelButton };
}
