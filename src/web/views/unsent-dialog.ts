/**
 * Logging out with steps or notes still in the outbox (tapped without a connection): they are not lost, but the
 * officer should know they have not reached dispatch, and may rather stay signed in until they have.
 */
import { h } from '../dom.ts';
import { openModal } from './modal.ts';

/** `waiting`: what the outbox holds, named (describeEntry). True: log out anyway (it stays on this phone for the officer's next sign-in here). */
export function confirmSignOutWithUnsent(waiting: readonly string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const { body, close } = openModal('Not sent yet', 'account-dialog unsent-dialog', { cancellable: true }, resolve);
    const stay = h('button', { type: 'button', class: 'btn btn-primary' }, 'Stay signed in');
    const leave = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Log out anyway');
    stay.addEventListener('click', () => close(false));
    leave.addEventListener('click', () => close(true));
    body.append(
      h('p', {}, `Tapped without a connection, not at dispatch yet: ${waiting.join(', ')}.`),
      h(
        'p',
        { class: 'muted small' },
        'Staying signed in sends them as soon as the connection is back. Logged out, they stay on this phone and are sent when you sign in here again within 12 hours.',
      ),
      h('div', { class: 'actions' }, stay, leave),
    );
    stay.focus();
  });
}
