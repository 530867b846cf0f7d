/**
 * The one announcer: every alert change — raised by a worker, moved along by
 * an officer, escalated by a timer — goes through `announce()`, which fans it
 * out to a list of channels (Frigate's Dispatcher pattern): socket rooms,
 * webhooks, escalation timers, and whatever comes next. A new channel is one
 * more entry in the list given at wiring time (src/system/…, src/queue/wiring/…).
 *
 * Failure policy, decided per channel at wiring time: a `required` channel's
 * failure makes announce() reject (a worker job then retries and re-announces:
 * events are at-least-once); any other channel's failure is logged.
 */
import type { Logger } from 'pino';
import type { AlertEventName, AlertStatus } from '../contracts/vocabulary.ts';
import type { IncidentNote } from '../contracts/api.ts';
import type { AlertEvent } from '../realtime/events.ts';
import { alertRooms, zoneRoom } from '../realtime/rooms.ts';
import type { UnitEventPublisher } from '../realtime/publisher.ts';
import type { UnitView } from '../db/repositories/units.ts';

export type AlertChange =
  /** A new alert (a new person in front of a camera). */
  | { kind: 'created'; alert: AlertEvent }
  /** New sightings were attached (violation count, last seen). */
  | { kind: 'sighting'; alert: AlertEvent }
  /** A lifecycle step by a user; `previousUnitId` is the unit assigned before it. */
  | { kind: 'transition'; alert: AlertEvent; from: AlertStatus; to: AlertStatus; previousUnitId: string | null; at: Date }
  /** An escalation timer raised the alert's level. */
  | { kind: 'escalated'; alert: AlertEvent; level: number }
  /** A user reviewed the incident's people (e.g. marked one a false positive); the status is unchanged. */
  | { kind: 'reviewed'; alert: AlertEvent }
  /** A dispatcher or an officer added a note (its timeline lists it); the status is unchanged. */
  | { kind: 'noted'; alert: AlertEvent; note: IncidentNote }
  /** An admin edited the alert's camera (name, address, zone, position): what officers navigate by. */
  | { kind: 'camera'; alert: AlertEvent; previousZone?: string | null };

/** The event name clients receive for a change. */
export function eventName(change: AlertChange): AlertEventName {
  return change.kind === 'created' ? 'alert.created' : 'alert.updated';
}

/** The socket rooms of a change: one rule (see realtime/rooms.ts alertRooms). */
export function changeRooms(change: AlertChange): string[] {
  const rooms = alertRooms(change.alert, change.kind === 'transition' ? change.previousUnitId : null);
  // A camera moved to another zone: the old zone's dispatchers hear of it too, and drop its alerts.
  if (change.kind === 'camera' && change.previousZone && change.previousZone !== change.alert.camera.zone) rooms.push(zoneRoom(change.previousZone));
  return rooms;
}

export interface AlertChannel {
  readonly name: string;
  /** When true, a failure of this channel fails announce(). */
  readonly required?: boolean;
  deliver(change: AlertChange): Promise<void>;
}

export interface Announcer {
  announce(change: AlertChange): Promise<void>;
}

export function createAnnouncer(opts: { channels: readonly (AlertChannel | undefined)[]; logger: Logger }): Announcer {
  const channels = opts.channels.filter((c): c is AlertChannel => c !== undefined);
  return {
    async announce(change) {
      let failure: unknown;
      // In order: sockets first, so dashboards hear of an alert before anything else happens to it.
      for (const channel of channels) {
        try {
          await channel.deliver(change);
        } catch (err) {
          opts.logger.error({ err, channel: channel.name, alertId: change.alert.id, change: change.kind }, 'alert announcement failed');
          if (channel.required) failure ??= err;
        }
      }
      if (failure !== undefined) throw failure;
    },
  };
}

// ---- channels ---------------------------------------------------------------

/** Something that puts an event into socket rooms: the API's Socket.IO server or a worker's Redis emitter. */
export interface RoomEmitter {
  publish(name: AlertEventName, alert: AlertEvent, rooms: string[]): Promise<void>;
}

export function socketChannel(emitter: RoomEmitter, opts: { required?: boolean } = {}): AlertChannel {
  return {
    name: 'sockets',
    required: opts.required,
    deliver: (change) => emitter.publish(eventName(change), change.alert, changeRooms(change)),
  };
}

export function webhookChannel(notifier: {
  notify(event: AlertEventName, alert: AlertEvent, extra: { previousZone: string | null; note?: IncidentNote }): Promise<void>;
}): AlertChannel {
  // A webhook queue problem never fails the action or job that raised the change.
  return {
    name: 'webhooks',
    deliver: (change) =>
      notifier.notify(eventName(change), change.alert, {
        previousZone: change.kind === 'camera' ? (change.previousZone ?? null) : null,
        note: change.kind === 'noted' ? change.note : undefined,
      }),
  };
}

/**
 * Escalation timers: a created alert gets its dispatch deadline, a dispatched one
 * its acknowledgement deadline. (An escalation schedules its own next level.)
 */
export function escalationChannel(
  scheduler: { watchEvent(alert: AlertEvent, enteredAt: Date): Promise<unknown> },
  opts: { required?: boolean } = {},
): AlertChannel {
  return {
    name: 'escalation',
    required: opts.required,
    async deliver(change) {
      if (change.kind === 'created') await scheduler.watchEvent(change.alert, new Date(change.alert.createdAt));
      else if (change.kind === 'transition' && change.to === 'DISPATCHED') await scheduler.watchEvent(change.alert, change.at);
    },
  };
}

/**
 * Unit board: a transition may move unit statuses (dispatched → busy, closed →
 * available), so the units it touched are pushed again.
 */
export function unitStatusChannel(
  units: { findById(id: string): Promise<UnitView | null> },
  publisher: UnitEventPublisher,
): AlertChannel {
  return {
    name: 'unit-status',
    async deliver(change) {
      if (change.kind !== 'transition') return;
      for (const unitId of new Set([change.alert.assignedUnitId, change.previousUnitId])) {
        const unit = unitId ? await units.findById(unitId) : null;
        if (unit) publisher.updated(unit);
      }
    },
  };
}
