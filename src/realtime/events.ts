/** Alert as pushed to dashboards: the payload of alert.created / alert.updated. */
export interface AlertEvent {
  id: string;
  status: 'NEW' | 'DISPATCHED' | 'ACKNOWLEDGED' | 'EN_ROUTE' | 'ON_SCENE' | 'RESOLVED' | 'DISMISSED';
  cameraId: string;
  camera: { name: string; latitude: number; longitude: number; address: string | null; zone: string | null };
  createdAt: string;
  lastSeenAt: string;
  violationCount: number;
  /** P(no mask) of the alert's most certain face, 0–1. */
  noMaskProbability: number;
  /** @deprecated the old name of noMaskProbability (same value), kept for existing clients. */
  maskProbability: number;
  snapshotUrl: string | null;
  frameSnapshotUrl: string | null;
  assignedUnitId: string | null;
  escalationLevel: number;
}

/** Every event the server pushes, in one map shared by server, workers, tests and dashboard. */
export interface ServerToClientEvents {
  'alert.created': (alert: AlertEvent) => void;
  'alert.updated': (alert: AlertEvent) => void;
}

export type ServerEventName = keyof ServerToClientEvents;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ClientToServerEvents {}
