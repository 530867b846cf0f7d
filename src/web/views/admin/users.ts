/**
 * Admin › Users: list and create (officers belong to a unit, dispatchers may be
 * limited to zones); per user: role, unit, zones, enable / disable, password
 * reset, where they are signed in (one session signed out, or all), delete.
 * Changes of role, unit or zones, disabling, resets and deletes end the user's sessions.
 */
import { ApiError, type Role, type SsoOffer, type UserSummary } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, option, replaceChildren, toast, uid } from '../../dom.ts';
import { errorText, zonesOfCameras } from '../common.ts';
import { formatAgo, formatDateTime } from '../../format.ts';
import { openPasswordDialog } from '../password-dialog.ts';
import { openModal } from '../modal.ts';
import { sessionList } from '../session-list.ts';

const ROLES: Role[] = ['DISPATCHER', 'OFFICER', 'ADMIN'];

export function usersPanel(ctx: ViewContext): HTMLElement {
  const username = h('input', { name: 'username', required: true, maxlength: 64, autocomplete: 'off' });
  const password = h('input', { name: 'password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' });
  const role = h('select', { name: 'role' }, ...(['DISPATCHER', 'OFFICER', 'ADMIN'] as Role[]).map((r) => option(r, r.toLowerCase())));
  const unit = h('select', { name: 'unitId' }, option('', 'No unit'));
  const zonesId = uid('zones');
  const zones = h('input', { name: 'zones', list: zonesId, placeholder: 'Every zone', maxlength: 1000, autocomplete: 'off', title: 'Dispatchers only: the camera zones whose alerts they see, separated by commas. Empty: every zone.' });
  const knownZones = h('datalist', { id: zonesId });
  const tbody = h('tbody');
  const unitNames = new Map<string, string>();
  let unitList: { id: string; callSign: string }[] = [];
  /** The zones cameras have, for choosing a dispatcher's, and how many cameras have none. */
  let cameraZones: string[] = [];
  let camerasWithoutZone = 0;
  /** What the directory's groups decide at each single sign-on of a linked account (null: unknown). */
  let directory: SsoOffer | null = null;

  /** The Directory badge's explanation: linked, and what of the account follows the directory's groups. */
  function directoryTitle(u: UserSummary): string {
    const role = directory?.rolesFromGroups ?? false;
    const zones = (directory?.zonesFromGroups ?? false) && u.role === 'DISPATCHER';
    const linked = 'Linked to an account of the agency\'s directory (single sign-on)';
    if (!role && !zones) return linked;
    return `${linked}. Its ${role && zones ? 'role and zones follow' : role ? 'role follows' : 'zones follow'} the directory's groups at each sign-on: change them there.`;
  }

  /** A dispatcher's zones: ticks among the cameras' zones (and any the user has that no camera has now). */
  function editZones(u: UserSummary): void {
    const { body, close, cancelButton } = openModal(`Zones of ${u.username}`, 'account-dialog', { cancellable: true }, () => undefined);
    const names = [...new Set([...cameraZones, ...u.zones])].sort((a, b) => a.localeCompare(b));
    const boxes = names.map((z) => h('input', { type: 'checkbox', value: z, checked: u.zones.includes(z) }));
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save zones');
    const form = h(
      'form',
      {},
      h('p', { class: 'muted small' }, `${u.username} sees only the alerts, evidence, history and statistics of cameras in the zones ticked. None ticked: every zone. Their sessions end and they log in again.`),
      names.length > 0
        ? h('fieldset', { class: 'zone-choices' }, h('legend', {}, 'Zones'), ...boxes.map((b) => h('label', { class: 'check' }, b, b.value)))
        : h('p', { class: 'muted' }, 'No camera has a zone yet: give cameras zones in Admin › Cameras first.'),
      // Alerts of a camera without a zone reach no dispatcher limited to zones: say so where that is decided.
      camerasWithoutZone > 0
        ? h('p', { class: 'muted small' }, `${camerasWithoutZone === 1 ? '1 camera has no zone: its' : `${camerasWithoutZone} cameras have no zone: their`} alerts reach only admins and the dispatchers who see every zone.`)
        : null,
      h('div', { class: 'actions' }, cancelButton(), save),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
      close(true);
      act(`${u.username} ${chosen.length > 0 ? `sees zones ${chosen.join(', ')}` : 'sees every zone'}`, () => ctx.api.updateUser(u.id, { zones: chosen }));
    });
    replaceChildren(body, form);
    (boxes[0] ?? save).focus();
  }

  /** Runs an account action, reports it, reloads the list. */
  function act(done: string, action: () => Promise<unknown>): void {
    void action().then(
      () => {
        toast(done);
        void load();
      },
      (err) => {
        toast(errorText(err), 'error');
        void load();
      },
    );
  }

  function row(u: UserSummary): HTMLElement {
    const enabled = u.enabled !== false;
    const self = u.id === ctx.session.user.id;
    const roleSelect = h('select', { 'aria-label': `Role of ${u.username}` }, ...ROLES.map((r) => option(r, r.toLowerCase(), r === u.role)));
    const unitSelect = h('select', { 'aria-label': `Unit of ${u.username}` }, option('', 'No unit', !u.unitId), ...unitList.map((x) => option(x.id, x.callSign, x.id === u.unitId)));
    roleSelect.addEventListener('change', () => {
      const role = roleSelect.value as Role;
      if (!confirm(`Make ${u.username} ${role.toLowerCase()}? Their sessions end and they log in again.`)) return void (roleSelect.value = u.role);
      act(`${u.username} is now ${role.toLowerCase()}`, () => ctx.api.updateUser(u.id, { role }));
    });
    unitSelect.addEventListener('change', () => {
      const unitId = unitSelect.value || null;
      const label = unitId ? (unitNames.get(unitId) ?? unitId) : 'no unit';
      if (!confirm(`Move ${u.username} to ${label}? Their sessions end and they log in again.`)) return void (unitSelect.value = u.unitId ?? '');
      act(`${u.username} moved to ${label}`, () => ctx.api.updateUser(u.id, { unitId }));
    });
    const zoneText = u.zones.length > 0 ? u.zones.join(', ') : null;
    const zoneButton =
      u.role === 'DISPATCHER'
        ? h('button', { type: 'button', class: 'btn btn-small nowrap', 'aria-label': `Zones of ${u.username}: ${zoneText ?? 'every zone'}` }, zoneText ?? 'Every zone')
        : null;
    zoneButton?.addEventListener('click', () => editZones(u));
    const toggle = h('button', { type: 'button', class: `btn btn-small ${enabled ? 'btn-danger' : ''}`, 'aria-label': `${enabled ? 'Disable' : 'Enable'} ${u.username}` }, enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', () => {
      if (enabled && !confirm(`Disable ${u.username}? They are logged out everywhere and cannot log in.`)) return;
      act(`${u.username} ${enabled ? 'disabled' : 'enabled'}`, () => ctx.api.updateUser(u.id, { enabled: !enabled }));
    });
    const reset = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Reset password of ${u.username}` }, 'Reset password');
    reset.addEventListener('click', () => {
      void openPasswordDialog({
        title: `New password for ${u.username}`,
        description: 'Their sessions end. Give them the new password in person or over a trusted channel.',
        askCurrent: false,
        submitLabel: 'Set password',
        cancellable: true,
        option: 'They must change it at their next login',
        submit: ({ next, option: mustChange }) => ctx.api.resetUserPassword(u.id, next, mustChange),
      }).then((ok) => {
        if (ok) {
          toast(`Password of ${u.username} reset`);
          void load();
        }
      });
    });
    const resetMfa = u.mfaEnabled ? h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Reset the two-factor sign-in of ${u.username}` }, 'Reset two-factor') : null;
    resetMfa?.addEventListener('click', () => {
      if (!confirm(`Remove the two-factor sign-in of ${u.username} (a lost or replaced phone)? Their sessions end; they sign in with the password and set up a new one.`)) return;
      act(`Two-factor sign-in of ${u.username} reset`, () => ctx.api.resetUserMfa(u.id));
    });
    const unlinkSso = u.ssoLinked ? h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Unlink ${u.username} from the directory` }, 'Unlink directory') : null;
    unlinkSso?.addEventListener('click', () => {
      if (!confirm(`Unlink ${u.username} from their directory account? Their sessions end; the next single sign-on with the username ${u.username} links it again.`)) return;
      act(`${u.username} unlinked from the directory`, () => ctx.api.unlinkUserSso(u.id));
    });
    const sessions = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Sessions: where ${u.username} is signed in` }, 'Sessions');
    sessions.addEventListener('click', () => {
      const { body, cancelButton } = openModal(`Where ${u.username} is signed in`, 'account-dialog', { cancellable: true }, () => undefined);
      const error = h('p', { class: 'form-error', role: 'alert' });
      const list = sessionList({
        label: `Sessions of ${u.username}`,
        load: async () => (await ctx.api.userSessions(u.id)).items,
        end: (sessionId) => ctx.api.endUserSession(u.id, sessionId),
        error,
        thisBrowser: false,
      });
      replaceChildren(body, list, error, h('div', { class: 'actions' }, cancelButton()));
    });
    const revoke = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Log out everywhere: ${u.username}` }, 'Log out everywhere');
    revoke.addEventListener('click', () => {
      if (!confirm(`Log ${u.username} out on every device?`)) return;
      act(`${u.username} logged out everywhere`, () => ctx.api.revokeUserSessions(u.id));
    });
    const del = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${u.username}` }, 'Delete');
    del.addEventListener('click', () => {
      if (!confirm(`Delete ${u.username}? The account is removed for good; the audit trail of what they did is kept.`)) return;
      act(`${u.username} deleted`, () => ctx.api.deleteUser(u.id));
    });
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, u.username, self ? h('span', { class: 'muted small' }, ' (you)') : null),
      h('td', {}, roleSelect),
      h('td', {}, unitSelect),
      h('td', {}, zoneButton ?? h('span', { class: 'muted' }, '–')),
      h('td', {}, h('span', { class: `badge ${enabled ? 'unit-AVAILABLE' : 'unit-OFF_DUTY'}` }, enabled ? 'Enabled' : 'Disabled'), u.mustChangePassword ? h('span', { class: 'muted small' }, ' must change password') : null, u.mfaEnabled ? h('span', { class: 'badge badge-mfa', title: 'Signs in with an authenticator app code' }, 'Two-factor') : null, u.securityKeys > 0 ? h('span', { class: 'badge badge-mfa', title: `Signs in with a security key (${u.securityKeys} registered)` }, 'Security key') : null, u.securityKeyRequired && u.securityKeys === 0 ? h('span', { class: 'badge badge-mfa badge-due', title: 'The role must sign in with a security key: asked to add one at the next sign-in' }, 'Key due') : null, u.ssoLinked ? h('span', { class: 'badge badge-mfa', title: directoryTitle(u) }, 'Directory') : null),
      h('td', { class: 'small', title: u.lastSignInAt ? formatDateTime(u.lastSignInAt) : 'never signed in' }, u.lastSignInAt ? formatAgo(u.lastSignInAt, Date.now()) : 'never'),
      h('td', { class: 'mono small' }, u.id.slice(0, 8)),
      h('td', {}, h('div', { class: 'row-actions' }, toggle, reset, resetMfa, unlinkSso, sessions, revoke, del)),
    );
  }
  const form = h('form', { class: 'filters', 'aria-label': 'New user' }, field('Username', username), field('Password', password), field('Role', role), field('Unit', unit), field('Zones', zones), knownZones, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create user'));
  const hint = h('p', { class: 'muted small', id: uid('hint') }, 'Passwords need at least 12 characters. Zones: dispatchers only, separated by commas; empty: every zone.');
  async function load(): Promise<void> {
    try {
      const [users, units, cameras, offer] = await Promise.all([ctx.api.users(), ctx.api.units(), ctx.api.cameras(), ctx.api.ssoOffer().catch(() => null)]);
      directory = offer;
      cameraZones = zonesOfCameras(cameras);
      camerasWithoutZone = cameras.filter((c) => !c.zone).length;
      replaceChildren(knownZones, ...cameraZones.map((z) => h('option', { value: z })));
      unitNames.clear();
      replaceChildren(unit, option('', 'No unit'), ...units.items.map((u) => option(u.callSign, u.callSign)));
      for (const u of units.items) unitNames.set(u.id, u.callSign);
      unitList = units.items.map((u) => ({ id: u.id, callSign: u.callSign }));
      replaceChildren(tbody, ...users.map(row));
    } catch (err) {
      const missing = err instanceof ApiError && err.status === 404;
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 8, class: missing ? 'muted' : 'form-error' }, missing ? 'Users cannot be managed from the dashboard on this server. Ask your system administrator.' : errorText(err))));
    }
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (role.value === 'OFFICER' && !unit.value) {
      toast('An officer belongs to a patrol unit: choose one in the Unit list.', 'error');
      unit.focus();
      return;
    }
    const zoneList = zones.value.split(',').map((z) => z.trim()).filter((z) => z.length > 0);
    if (role.value !== 'DISPATCHER' && zoneList.length > 0) {
      toast('Only dispatchers are limited to zones: empty the Zones field.', 'error');
      zones.focus();
      return;
    }
    void ctx.api.createUser({ username: username.value.trim(), password: password.value, role: role.value as Role, unit: unit.value || undefined, zones: zoneList.length > 0 ? zoneList : undefined }).then(
      () => {
        form.reset();
        toast('User created');
        void load();
      },
      (err) => toast(errorText(err), 'error'),
    );
  });
  void load();
  return h('div', {}, h('h2', {}, 'Users'), form, hint, h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'aria-label': 'Users' }, h('thead', {}, h('tr', {}, ...['Username', 'Role', 'Unit', 'Zones', 'State', 'Last sign-in', 'Id', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))), tbody)));
}
