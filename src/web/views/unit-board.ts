/** Rows of the dispatcher's unit status board: call sign, status, position age, current alert. */
import type { AlertEvent } from '../../realtime/events.ts';
import { isOpen } from '../alert-list.ts';
import type { Unit } from '../api.ts';
import { h } from '../dom.ts';
import { formatAgo } from '../format.ts';
import { statusBadge } from './common.ts';

/** `openAlert` makes the Alert cell a button that opens the alert in the detail. */
export function unitBoardRows(units: readonly Unit[], alerts: readonly AlertEvent[], now: number, openAlert?: (id: string) => void): HTMLElement[] {
  if (!units.length) return [h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No patrol units yet.'))];
  return units.map((u) => {
    const current = alerts.find((a) => a.assignedUnitId === u.id && isOpen(a.status));
    return h(
      'tr',
      {},
      h('th', { scope: 'row', class: 'nowrap' }, u.callSign),
      h('td', {}, h('span', { class: `badge unit-${u.status}` }, u.status.replace('_', ' ').toLowerCase())),
      h('td', { class: 'muted' }, u.positionAt ? formatAgo(u.positionAt, now) : 'unknown'),
      h('td', {}, current ? alertCell(current, openAlert) : '–'),
    );
  });
}

/** Which alert the unit is on: its camera (a badge alone said what, not where) and status. */
function alertCell(a: AlertEvent, openAlert?: (id: string) => void): HTMLElement {
  const content = [h('span', { class: 'board-camera' }, a.camera.name), statusBadge(a.status)];
  if (!openAlert) return h('span', { class: 'board-alert' }, ...content);
  return h('button', { type: 'button', class: 'board-alert link-button', title: 'Open the alert', onclick: () => openAlert(a.id) }, ...content);
}
