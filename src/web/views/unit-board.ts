/** Rows of the dispatcher's unit status board: call sign, status, position age, current alert. */
import type { AlertEvent } from '../../realtime/events.ts';
import { isOpen } from '../alert-list.ts';
import type { Unit } from '../api.ts';
import { h } from '../dom.ts';
import { formatAgo } from '../format.ts';
import { statusBadge } from './common.ts';

export function unitBoardRows(units: readonly Unit[], alerts: readonly AlertEvent[], now: number): HTMLElement[] {
  if (!units.length) return [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No patrol units yet.'))];
  return units.map((u) => {
    const current = alerts.find((a) => a.assignedUnitId === u.id && isOpen(a.status));
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, u.callSign),
      h('td', {}, h('span', { class: `badge unit-${u.status}` }, u.status.replace('_', ' ').toLowerCase())),
      h('td', { class: 'muted' }, u.positionAt ? formatAgo(u.positionAt, now) : 'unknown'),
      h('td', {}, current ? statusBadge(current.status) : '–'),
    );
  });
}
