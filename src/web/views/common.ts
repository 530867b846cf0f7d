/** Small view helpers shared by the dispatcher and officer views. */
import type { AlertEvent } from '../../realtime/events.ts';
import { statusLabel } from '../alert-list.ts';
import { h } from '../dom.ts';

export function statusBadge(status: AlertEvent['status']): HTMLElement {
  return h('span', { class: `badge status-${status}` }, statusLabel(status));
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
