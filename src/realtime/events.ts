import type { Alert } from '../contracts/api.ts';

/** Alert as pushed to dashboards and webhooks: the payload of alert.created / alert.updated (src/contracts/api.ts AlertSchema). */
export type AlertEvent = Alert;

/** Every event the server pushes, in one map shared by server, workers, tests and dashboard. */
export interface ServerToClientEvents {
  'alert.created': (alert: AlertEvent) => void;
  'alert.updated': (alert: AlertEvent) => void;
}

export type ServerEventName = keyof ServerToClientEvents;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ClientToServerEvents {}
