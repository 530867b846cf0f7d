/** Small view helpers shared by the dispatcher and officer views. */
import type { AlertEvent } from '../../realtime/events.ts';
import { statusLabel } from '../alert-list.ts';
import { h } from '../dom.ts';

export function statusBadge(status: AlertEvent['status']): HTMLElement {
  return h('span', { class: `badge status-${status}` }, statusLabel(status));
}

/** No answer at all (server down, network gone): fetch() rejects with a TypeError ("Failed to fetch"). */
export function isNetworkError(err: unknown): boolean {
  return err instanceof TypeError && /fetch|network|load failed/i.test(err.message);
}

export function errorText(err: unknown): string {
  if (isNetworkError(err)) return 'No connection to the server. This refreshes by itself once the connection is back.';
  return err instanceof Error ? err.message : String(err);
}
