/** Admin › Units: patrol units, their status and officers. */
import { UNIT_STATUSES } from '../../../contracts/vocabulary.ts';
import type { Unit, UnitStatus, UserSummary } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, option, replaceChildren, toast } from '../../dom.ts';
import { errorText } from '../common.ts';

export function unitsPanel(ctx: ViewContext): HTMLElement {
  const callSign = h('input', { name: 'callSign', required: true, maxlength: 32 });
  const lat = h('input', { name: 'latitude', inputmode: 'decimal' });
  const lon = h('input', { name: 'longitude', inputmode: 'decimal' });
  const tbody = h('tbody');
  let officers: UserSummary[] = [];
  const form = h('form', { class: 'filters', 'aria-label': 'New unit' }, field('Call sign', callSign), field('Latitude', lat), field('Longitude', lon), h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create unit'));
  async function load(): Promise<void> {
    try {
      const [units, users] = await Promise.all([ctx.api.units(), ctx.api.users().catch(() => [] as UserSummary[])]);
      officers = users.filter((u) => u.role === 'OFFICER');
      replaceChildren(tbody, ...units.items.map(row));
      if (!units.items.length) tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No units yet.')));
    } catch (err) {
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 5, class: 'form-error' }, errorText(err))));
    }
  }
  function row(u: Unit): HTMLElement {
    const sel = h('select', { 'aria-label': `Status of ${u.callSign}` }, ...UNIT_STATUSES.map((s) => option(s, s.replace('_', ' ').toLowerCase(), s === u.status)));
    sel.addEventListener('change', () => void ctx.api.updateUnit(u.id, { status: sel.value as UnitStatus }).then(() => toast(`${u.callSign}: ${sel.value}`), (err) => toast(errorText(err), 'error')));
    const add = h('select', { 'aria-label': `Add officer to ${u.callSign}` }, option('', 'Add officer…'), ...officers.filter((o) => o.unitId !== u.id).map((o) => option(o.id, o.username)));
    add.addEventListener('change', () => {
      if (!add.value) return;
      void ctx.api.setMembers(u.id, [...u.members.map((m) => m.id), add.value]).then(() => load(), (err) => toast(errorText(err), 'error'));
    });
    const del = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${u.callSign}` }, 'Delete');
    del.addEventListener('click', () => {
      if (!confirm(`Delete unit ${u.callSign}?`)) return;
      void ctx.api.deleteUnit(u.id).then(() => load(), (err) => toast(errorText(err), 'error'));
    });
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, u.callSign),
      h('td', {}, sel),
      h('td', {}, u.members.map((m) => m.username).join(', ') || '–', officers.length ? h('div', {}, add) : null),
      h('td', { class: 'mono small' }, u.latitude !== null && u.longitude !== null ? `${u.latitude.toFixed(5)}, ${u.longitude.toFixed(5)}` : 'unknown'),
      h('td', {}, h('div', { class: 'row-actions' }, del)),
    );
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body: { callSign: string; latitude?: number; longitude?: number } = { callSign: callSign.value.trim() };
    if (lat.value.trim() && lon.value.trim()) {
      body.latitude = Number(lat.value);
      body.longitude = Number(lon.value);
    }
    void ctx.api.createUnit(body).then(
      () => {
        form.reset();
        void load();
      },
      (err) => toast(errorText(err), 'error'),
    );
  });
  void load();
  return h('div', {}, h('h2', {}, 'Patrol units'), form, h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'aria-label': 'Units' }, h('thead', {}, h('tr', {}, ...['Call sign', 'Status', 'Members', 'Position', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))), tbody)));
}
