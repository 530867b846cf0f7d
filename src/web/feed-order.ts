/**
 * The dispatcher's queue (pure, no DOM, unit-tested): which alerts are shown,
 * in which order, and what the tab title says.
 *
 * Order: open alerts first. Among them, those still needing the dispatcher (not
 * dispatched to a unit) come before those units are handling: an escalation
 * level never drops once a unit has it, so ranking by level first let a unit's
 * old escalation bury a brand-new alert nobody had dispatched. Within each group
 * the highest escalation level first, then (handled group) a unit that has not
 * acknowledged before one that has, then the oldest first, so an old alert
 * never sinks below newer ones. Closed alerts follow, newest first.
 */
import type { AlertEvent } from '../realtime/events.ts';
import { isOpen, type AlertStatus } from './alert-list.ts';

/** Waiting for a dispatcher or for the unit to acknowledge. */
export function isUnhandled(status: AlertStatus): boolean {
  return status === 'NEW' || status === 'DISPATCHED';
}

/** Open and no unit on it: only the dispatcher can move it on. */
export function needsDispatch(a: Pick<AlertEvent, 'status' | 'assignedUnitId'>): boolean {
  return isOpen(a.status) && (a.status === 'NEW' || a.assignedUnitId === null);
}

function time(iso: string): number {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
}

export function comparePriority(a: AlertEvent, b: AlertEvent): number {
  const openA = isOpen(a.status);
  const openB = isOpen(b.status);
  if (openA !== openB) return openA ? -1 : 1;
  if (openA) {
    const todoA = needsDispatch(a);
    if (todoA !== needsDispatch(b)) return todoA ? -1 : 1;
    if (a.escalationLevel !== b.escalationLevel) return b.escalationLevel - a.escalationLevel;
    const waitA = isUnhandled(a.status);
    if (waitA !== isUnhandled(b.status)) return waitA ? -1 : 1;
    const age = time(a.createdAt) - time(b.createdAt);
    if (age !== 0) return age;
  } else {
    const age = time(b.createdAt) - time(a.createdAt);
    if (age !== 0) return age;
  }
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function sortByPriority(list: readonly AlertEvent[]): AlertEvent[] {
  return [...list].sort(comparePriority);
}

/** 'open' (any open status), 'all', or one status. */
export type StatusFilter = 'open' | 'all' | AlertStatus;

export interface FeedFilter {
  status: StatusFilter;
  /** '' = every zone; NO_ZONE = cameras without a zone. */
  zone: string;
  /** '' = every camera. */
  cameraId: string;
}

export const NO_ZONE = '__no_zone__';
export const DEFAULT_FILTER: FeedFilter = { status: 'open', zone: '', cameraId: '' };

export function matchesFilter(a: AlertEvent, f: FeedFilter): boolean {
  if (f.status === 'open' ? !isOpen(a.status) : f.status !== 'all' && a.status !== f.status) return false;
  if (f.zone && (a.camera.zone ?? NO_ZONE) !== f.zone) return false;
  if (f.cameraId && a.cameraId !== f.cameraId) return false;
  return true;
}

/** The feed as shown: filtered, in priority order. */
export function feedView(list: readonly AlertEvent[], f: FeedFilter): AlertEvent[] {
  return sortByPriority(list.filter((a) => matchesFilter(a, f)));
}

/**
 * What the filters hide of the open alerts (the header counts them all): null when nothing open is
 * hidden, else how many are shown of how many, and how many hidden ones are escalated.
 */
export function hiddenByFilter(list: readonly AlertEvent[], f: FeedFilter): { shown: number; open: number; escalatedHidden: number } | null {
  const open = list.filter((a) => isOpen(a.status));
  const hidden = open.filter((a) => !matchesFilter(a, f));
  if (hidden.length === 0) return null;
  return { shown: open.length - hidden.length, open: open.length, escalatedHidden: hidden.filter((a) => a.escalationLevel > 0).length };
}

/** Zones and cameras to offer in the filters, sorted by name (from the alerts and known cameras). */
export function feedFacets(
  list: readonly AlertEvent[],
  cameras: readonly { id: string; name: string; zone: string | null }[] = [],
): { zones: string[]; cameras: { id: string; name: string }[]; hasNoZone: boolean } {
  const zones = new Set<string>();
  const cams = new Map<string, string>();
  let hasNoZone = false;
  for (const c of cameras) {
    cams.set(c.id, c.name);
    if (c.zone) zones.add(c.zone);
    else hasNoZone = true;
  }
  for (const a of list) {
    if (!cams.has(a.cameraId)) cams.set(a.cameraId, a.camera.name);
    if (a.camera.zone) zones.add(a.camera.zone);
    else hasNoZone = true;
  }
  const byName = (x: string, y: string) => x.localeCompare(y);
  return {
    zones: [...zones].sort(byName),
    cameras: [...cams].map(([id, name]) => ({ id, name })).sort((x, y) => byName(x.name, y.name) || byName(x.id, y.id)),
    hasNoZone,
  };
}

/** The filter as a compact string (kept in localStorage across reloads) and back; bad input → default. */
export function encodeFilter(f: FeedFilter): string {
  return JSON.stringify(f);
}

export function decodeFilter(raw: string | null): FeedFilter {
  if (!raw) return { ...DEFAULT_FILTER };
  try {
    const v = JSON.parse(raw) as Partial<FeedFilter>;
    return {
      status: typeof v.status === 'string' ? v.status : DEFAULT_FILTER.status,
      zone: typeof v.zone === 'string' ? v.zone : '',
      cameraId: typeof v.cameraId === 'string' ? v.cameraId : '',
    };
  } catch {
    return { ...DEFAULT_FILTER };
  }
}

/**
 * What the dispatcher has not looked at yet ("Incoming" cards, unseen escalations), kept in
 * sessionStorage so a reload does not silently clear the title badge. Bounded: the newest
 * MAX_UNSEEN of each (a Set keeps arrival order).
 */
export interface Unseen {
  fresh: Set<string>;
  escalated: Set<string>;
}

export const MAX_UNSEEN = 200;

export function encodeUnseen(u: Unseen): string {
  const newest = (ids: Set<string>) => [...ids].slice(-MAX_UNSEEN);
  return JSON.stringify({ fresh: newest(u.fresh), escalated: newest(u.escalated) });
}

export function decodeUnseen(raw: string | null): Unseen {
  const ids = (v: unknown) => new Set(Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(-MAX_UNSEEN) : []);
  if (!raw) return { fresh: new Set(), escalated: new Set() };
  try {
    const v = JSON.parse(raw) as { fresh?: unknown; escalated?: unknown };
    return { fresh: ids(v?.fresh), escalated: ids(v?.escalated) };
  } catch {
    return { fresh: new Set(), escalated: new Set() };
  }
}

/**
 * Drops what no longer waits to be seen: alerts gone from the list or closed, and escalations a
 * unit has taken over (acknowledged or further).
 */
export function pruneUnseen(u: Unseen, alerts: readonly AlertEvent[]): void {
  const byId = new Map(alerts.map((a) => [a.id, a]));
  for (const id of [...u.fresh]) if (!isOpen(byId.get(id)?.status ?? 'RESOLVED')) u.fresh.delete(id);
  for (const id of [...u.escalated]) {
    const a = byId.get(id);
    if (!a || !isOpen(a.status) || !isUnhandled(a.status)) u.escalated.delete(id);
  }
}

/** What an incoming event means for the dispatcher (announce it or not, and how). */
export type Announcement = 'new' | 'escalated' | null;

export function announcementFor(before: AlertEvent | undefined, after: AlertEvent): Announcement {
  if (!before) return isOpen(after.status) ? 'new' : null;
  if (isOpen(after.status) && after.escalationLevel > before.escalationLevel) return 'escalated';
  return null;
}

/**
 * The tab title: open count first (visible in a narrow tab), then a badge when
 * escalations wait unseen, e.g. "(5) ⚠2 Dispatch · MaskWatch".
 */
export function tabTitle(base: string, openCount: number, unseenEscalations: number): string {
  const parts: string[] = [];
  if (openCount > 0) parts.push(`(${openCount})`);
  if (unseenEscalations > 0) parts.push(`⚠${unseenEscalations}`);
  parts.push(`${base} · MaskWatch`);
  return parts.join(' ');
}

/** The next index for a list key (j/k, arrows, Home/End), clamped to the list; -1 for an empty list. */
export function moveIndex(current: number, key: string, length: number, page = 5): number {
  if (length === 0) return -1;
  const at = current < 0 ? -1 : Math.min(current, length - 1);
  switch (key) {
    case 'j':
    case 'ArrowDown':
      return Math.min(length - 1, at + 1);
    case 'k':
    case 'ArrowUp':
      return at < 0 ? 0 : Math.max(0, at - 1);
    case 'Home':
      return 0;
    case 'End':
      return length - 1;
    case 'PageDown':
      return Math.min(length - 1, Math.max(0, at) + page);
    case 'PageUp':
      return Math.max(0, at - page);
    default:
      return at;
  }
}
