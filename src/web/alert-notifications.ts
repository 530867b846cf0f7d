/**
 * What a system notification says about an alert (pure). Notifications show on
 * lock screens and to whoever stands by the screen: they name the place and how
 * many people, never a face, a score or a person's crop.
 */
import type { AlertEvent } from '../realtime/events.ts';
import { formatCoord } from './format.ts';

/** Dispatchers hear of new and escalated alerts; officers of their unit's new assignments and escalations. */
export type NotificationKind = 'new' | 'escalated' | 'assigned' | 'unacknowledged';

export interface AlertNotification {
  title: string;
  body: string;
  /** One notification per alert: a later one replaces it instead of piling up. */
  tag: string;
  /** Stays until the user acts on it (an assignment, an escalation), instead of fading. */
  urgent: boolean;
}

type NotifiedAlert = Pick<AlertEvent, 'id' | 'status' | 'escalationLevel' | 'camera' | 'people'>;

export function alertTag(alertId: string): string {
  return `alert:${alertId}`;
}

function place(a: NotifiedAlert): string {
  return [a.camera.address, a.camera.zone].filter(Boolean).join(' · ') || formatCoord(a.camera.latitude, a.camera.longitude);
}

function people(a: NotifiedAlert): string {
  const n = a.people.filter((p) => !p.falsePositive).length;
  return n === 1 ? '1 person' : `${n} people`;
}

export function alertNotification(kind: NotificationKind, a: NotifiedAlert): AlertNotification {
  const where = `${a.camera.name}, ${place(a)}`;
  const tag = alertTag(a.id);
  switch (kind) {
    case 'new':
      return { title: 'New alert', body: `${where} · ${people(a)}`, tag, urgent: false };
    case 'escalated':
      return {
        title: `Escalated to level ${a.escalationLevel}`,
        body: `${where} · ${a.status === 'NEW' ? 'still not dispatched' : 'not acknowledged by the unit'}`,
        tag,
        urgent: true,
      };
    case 'assigned':
      return { title: 'New assignment', body: `${where} · ${people(a)}`, tag, urgent: true };
    case 'unacknowledged':
      return { title: 'Acknowledge your assignment', body: `${where} · escalated to level ${a.escalationLevel}, dispatch is waiting`, tag, urgent: true };
  }
}

/**
 * What an officer's phone announces for an alert event (pure): a new assignment
 * to the unit, or an escalation of one the unit has not acknowledged yet.
 */
export function officerAnnouncement(before: NotifiedAlert & Pick<AlertEvent, 'assignedUnitId'> | undefined, after: NotifiedAlert & Pick<AlertEvent, 'assignedUnitId'>, unitId: string): 'assigned' | 'unacknowledged' | null {
  if (after.assignedUnitId !== unitId || after.status !== 'DISPATCHED') return null;
  if (!before || before.assignedUnitId !== unitId) return 'assigned';
  if (after.escalationLevel > before.escalationLevel) return 'unacknowledged';
  return null;
}
