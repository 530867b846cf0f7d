/**
 * Admin › Zones: who sees which zone's alerts, and renaming a zone everywhere at once. A zone with
 * cameras and no dispatcher sends its alerts to admins only: the row says so.
 */
import type { Zone } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, replaceChildren, toast, uid } from '../../dom.ts';
import { errorText } from '../common.ts';
import { openModal } from '../modal.ts';

const COLUMNS = ['Zone', 'Cameras', 'Open alerts', 'Dispatchers who see it', 'Actions'];

export function zonesPanel(ctx: ViewContext): HTMLElement {
  const tbody = h('tbody');
  let names: string[] = [];

  function rename(from: string, namedBy: readonly string[]): void {
    const { body, close, cancelButton } = openModal(`Rename zone ${from}`, 'account-dialog', { cancellable: true }, () => undefined);
    const listId = uid('zone-names');
    const input = h('input', { name: 'to', required: true, maxlength: 100, value: from, list: listId, autocomplete: 'off' });
    const error = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      {},
      h('p', { class: 'muted small' }, 'Every camera of the zone and every dispatcher limited to it get the new name at once; their open dashboards follow within seconds. A name that is a zone already merges the two.'),
      // The settings are the operator's, in the environment: the rename cannot change them.
      namedBy.length > 0 ? h('p', { class: 'form-error' }, `${namedBy.join(' and ')} also name ${from}: change ${namedBy.length === 1 ? 'it' : 'them'} to the new name and restart MaskWatch.`) : null,
      field('New name', input),
      h('datalist', { id: listId }, ...names.filter((n) => n !== from).map((n) => h('option', { value: n }))),
      error,
      h('div', { class: 'actions' }, cancelButton(), h('button', { type: 'submit', class: 'btn btn-primary' }, 'Rename')),
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const to = input.value.trim();
      void ctx.api.renameZone(from, to).then(
        (done) => {
          close(true);
          toast(`Zone ${done.from} is now ${done.to}${done.merged ? ' (merged)' : ''}: ${done.cameras} camera${done.cameras === 1 ? '' : 's'}, ${done.dispatchers} dispatcher${done.dispatchers === 1 ? '' : 's'}`);
          if (done.namedBy.length > 0) toast(`${done.namedBy.join(' and ')} still name ${done.from}: change them and restart MaskWatch`, 'error');
          void load();
        },
        (err) => (error.textContent = errorText(err)),
      );
    });
    replaceChildren(body, form);
    input.select();
  }

  function row(z: Zone): HTMLElement {
    const name = z.zone ?? 'No zone';
    // Alerts of these cameras reach no dispatcher: the gap a zone limit can open.
    const unseen = z.cameras > 0 && z.dispatchers === 0;
    // Only cameras and dispatchers can be renamed here; a name only the settings use has nothing to rename.
    const action = z.zone === null || (z.cameras === 0 && z.zonedDispatchers === 0) ? null : h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Rename zone ${z.zone}` }, 'Rename');
    action?.addEventListener('click', () => rename(z.zone!, z.namedBy));
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, z.zone === null ? h('span', { class: 'muted' }, name) : name, z.namedBy.length > 0 ? h('div', { class: 'muted small' }, `named in ${z.namedBy.join(', ')}`) : null),
      h('td', {}, String(z.cameras), z.cameras === 0 ? h('span', { class: 'muted small' }, ' no camera has it') : null),
      h('td', {}, String(z.openAlerts)),
      h(
        'td',
        {},
        String(z.dispatchers),
        z.zonedDispatchers > 0 ? h('span', { class: 'muted small' }, ` (${z.zonedDispatchers} limited to it)`) : null,
        unseen ? h('span', { class: 'badge badge-mfa badge-due', title: 'Every dispatcher is limited to other zones: its alerts reach admins only' }, 'No dispatcher') : null,
      ),
      h('td', {}, action),
    );
  }

  async function load(): Promise<void> {
    try {
      const zones = await ctx.api.zones();
      names = zones.flatMap((z) => (z.zone === null ? [] : [z.zone]));
      replaceChildren(tbody, ...zones.map(row));
      if (zones.length === 0) tbody.append(h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, 'No camera yet.')));
    } catch (err) {
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'form-error' }, errorText(err))));
    }
  }
  void load();
  return h(
    'div',
    {},
    h('h2', {}, 'Zones'),
    h('p', { class: 'muted small' }, 'A camera\'s zone is set in Cameras; a dispatcher\'s zones in Users. Dispatchers who see every zone count for each.'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'aria-label': 'Zones' }, h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)))), tbody)),
  );
}
