/**
 * Logging out with steps or notes still in the outbox (tapped without a connection): they are not lost, but the
 * officer should know they have not reached dispatch, and may rather stay signed in until they have.
 */
import { h } from '../dom.ts';
import { openModal } from './modal.ts';

/** True: log out anyway (what waits stays on this phone for the officer's next sign-in here). */
export function confirmSignOutWithUnsent(count: number): Promise<boolean> {
  return new Promise((resolve) => {
    const { body, close } = openModal('Not sent yet', 'account-dialog unsent-dialog', { cancellable: true }, resolve);
    const stay = h('button', { type: 'button', class: 'btn btn-primary' }, 'Stay signed in');
    const leave = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Log out anyway');
    stay.addEventListener('click', () => close(false));
    leave.addEventListener('click', () => close(true));
    const what = count === 1 ? 'A step or note tapped without a connection has' : `${count} steps and notes tapped without a connection have`;
    body.append(
      h('p', {}, `${what} not reached dispatch yet.`),
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
