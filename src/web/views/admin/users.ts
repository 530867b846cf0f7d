/** Admin › Users: list and create (officers belong to a unit). */
import { ApiError, type Role } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, option, replaceChildren, toast, uid } from '../../dom.ts';
import { errorText } from '../common.ts';

export function usersPanel(ctx: ViewContext): HTMLElement {
  const username = h('input', { name: 'username', required: true, maxlength: 64, autocomplete: 'off' });
  const password = h('input', { name: 'password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' });
  const role = h('select', { name: 'role' }, ...(['DISPATCHER', 'OFFICER', 'ADMIN'] as Role[]).map((r) => option(r, r.toLowerCase())));
  const unit = h('select', { name: 'unitId' }, option('', 'No unit'));
  const tbody = h('tbody');
  const unitNames = new Map<string, string>();
  const form = h('form', { class: 'filters', 'aria-label': 'New user' }, field('Username', username), field('Password', password), field('Role', role), field('Unit', unit), h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create user'));
  const hint = h('p', { class: 'muted small', id: uid('hint') }, 'Passwords need at least 12 characters.');
  async function load(): Promise<void> {
    try {
      const [users, units] = await Promise.all([ctx.api.users(), ctx.api.units()]);
      unitNames.clear();
      replaceChildren(unit, option('', 'No unit'), ...units.items.map((u) => option(u.callSign, u.callSign)));
      for (const u of units.items) unitNames.set(u.id, u.callSign);
      replaceChildren(
        tbody,
        ...users.map((u) =>
          h('tr', {}, h('th', { scope: 'row' }, u.username), h('td', {}, u.role.toLowerCase()), h('td', {}, u.unitId ? (unitNames.get(u.unitId) ?? '–') : '–'), h('td', { class: 'mono small' }, u.id.slice(0, 8))),
        ),
      );
    } catch (err) {
      const missing = err instanceof ApiError && err.status === 404;
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 4, class: missing ? 'muted' : 'form-error' }, missing ? 'Users cannot be managed from the dashboard on this server. Ask your system administrator.' : errorText(err))));
    }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (role.value === 'OFFICER' && !unit.value) {
      toast('An officer belongs to a patrol unit: choose one in the Unit list.', 'error');
      unit.focus();
      return;
    }
    void ctx.api.createUser({ username: username.value.trim(), password: password.value, role: role.value as Role, unit: unit.value || undefined }).then(
      () => {
        form.reset();
        toast('User created');
        void load();
      },
      (err) => toast(userWording(errorText(err)), 'error'),
    );
  });
  void load();
  return h('div', {}, h('h2', {}, 'Users'), form, hint, h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'aria-label': 'Users' }, h('thead', {}, h('tr', {}, ...['Username', 'Role', 'Unit', 'Id'].map((c) => h('th', { scope: 'col' }, c)))), tbody)));
}

/** Server messages are shared with the command line; the dashboard names its own controls instead of CLI flags. */
export function userWording(message: string): string {
  return message.replace(/\s*\(--unit CALLSIGN\)/, ': choose one in the Unit list').replace(/--unit\b/g, 'Unit');
}
