/** Pure bookkeeping of the live alert list: no DOM, unit-tested. */
import type { AlertEvent } from '../realtime/events.ts';

export type AlertStatus = AlertEvent['status'];

import { ALERT_STATUSES } from '../domain/lifecycle.ts';
import type { ResolutionOutcome } from '../contracts/vocabulary.ts';

export { ALERT_STATUSES };

const CLOSED: ReadonlySet<AlertStatus> = new Set(['RESOLVED', 'DISMISSED']);

export function isOpen(status: AlertStatus): boolean {
  return !CLOSED.has(status);
}

export function statusLabel(status: AlertStatus): string {
  return status === 'EN_ROUTE' ? 'En route' : status === 'ON_SCENE' ? 'On scene' : status[0] + status.slice(1).toLowerCase();
}

/** How each outcome reads, on the officer's Resolve form and wherever it is shown. */
export const OUTCOME_LABELS: Record<ResolutionOutcome, string> = {
  MASK_PUT_ON: 'Mask put on',
  WARNED: 'Warned or cited',
  GONE_ON_ARRIVAL: 'Gone on arrival',
  NOT_A_VIOLATION: 'Not a violation',
  OTHER: 'Other (see note)',
};

/** Newest first; ties broken by id so the order is stable across reloads. */
export function sortAlerts(list: readonly AlertEvent[]): AlertEvent[] {
  return [...list].sort((a, b) => (a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt < b.createdAt ? 1 : -1));
}

/** Inserts or replaces one alert (events may arrive before or after the initial fetch). */
export function upsertAlert(list: readonly AlertEvent[], alert: AlertEvent): AlertEvent[] {
  const rest = list.filter((a) => a.id !== alert.id);
  return sortAlerts([...rest, alert]);
}

/** Merges a fetched page with alerts already received live, keeping the live (newer) copy. */
export function mergeAlerts(fetched: readonly AlertEvent[], live: readonly AlertEvent[]): AlertEvent[] {
  const byId = new Map<string, AlertEvent>();
  for (const a of fetched) byId.set(a.id, a);
  for (const a of live) byId.set(a.id, a);
  return sortAlerts([...byId.values()]);
}

export interface AlertFilter {
  openOnly: boolean;
  unitId?: string | null;
}

export function filterAlerts(list: readonly AlertEvent[], f: AlertFilter): AlertEvent[] {
  return list.filter((a) => (!f.openOnly || isOpen(a.status)) && (!f.unitId || a.assignedUnitId === f.unitId));
}

export function countByStatus(list: readonly AlertEvent[]): Record<AlertStatus, number> {
  const out = Object.fromEntries(ALERT_STATUSES.map((s) => [s, 0])) as Record<AlertStatus, number>;
  for (const a of list) out[a.status] += 1;
  return out;
}

/** Closed alerts the dispatcher's feed keeps (the newest); open ones are always kept. */
export const MAX_CLOSED_KEPT = 200;

/** Keeps every open alert and the newest `maxClosed` closed ones (a tab stays open for a whole shift). */
export function pruneAlerts(list: readonly AlertEvent[], maxClosed: number): AlertEvent[] {
  let closed = 0;
  return sortAlerts(list).filter((a) => isOpen(a.status) || ++closed <= maxClosed);
}
