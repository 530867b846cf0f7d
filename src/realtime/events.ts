import type { Alert, Person, Unit } from '../contracts/api.ts';

/** Alert as pushed to dashboards and webhooks: the payload of alert.created / alert.updated (src/contracts/api.ts AlertSchema). */
export type AlertEvent = Alert;

/** A patrol unit as pushed to dashboards (unit.updated): the shape of GET /api/v1/units items. */
export type UnitEvent = Unit;

/** A confirmed person of an alert (incident): src/contracts/api.ts PersonSchema. */
export type AlertPersonEvent = Person;

/** Every event the server pushes, in one map shared by server, workers, tests and dashboard. */
export interface ServerToClientEvents {
  'alert.created': (alert: AlertEvent) => void;
  'alert.updated': (alert: AlertEvent) => void;
  /** A unit's status, position, call sign or members changed (also after an alert transition moved its status). */
  'unit.updated': (unit: UnitEvent) => void;
  'unit.deleted': (unit: { id: string }) => void;
}


export interface ClientToServerEvents {
  /**
   * After POST /api/v1/auth/refresh: moves this socket onto the renewed session
   * (same user, role and unit), so it is not dropped when the old token's
   * revocation is noticed. ok false: reconnect with the new token instead.
   */
  'session.renew': (token: string, ack: (result: { ok: boolean }) => void) => void;
}
