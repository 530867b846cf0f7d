/**
 * The dispatcher's queue (pure, no DOM, unit-tested): which alerts are shown,
 * in which order, and what the tab title says.
 *
 * Order: open alerts first; among them the highest escalation level first, then
 * the ones still waiting for someone (NEW: nobody dispatched; DISPATCHED: the
 * unit has not acknowledged) before those being handled, then the oldest first,
 * so an old unhandled alert never sinks below newer ones. Closed alerts follow,
 * newest first.
 */
import type { AlertEvent } from '../realtime/events.ts';
import { isOpen, type AlertStatus } from './alert-list.ts';

/** Waiting for a dispatcher or for the unit to acknowledge. */
export function isUnhandled(status: AlertStatus): boolean {
  return status === 'NEW' || status === 'DISPATCHED';
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
