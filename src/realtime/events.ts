/** Alert as pushed to dashboards: the payload of alert.created / alert.updated. */
export interface AlertEvent {
  id: string;
  status: 'NEW' | 'DISPATCHED' | 'ACKNOWLEDGED' | 'EN_ROUTE' | 'ON_SCENE' | 'RESOLVED' | 'DISMISSED';
  cameraId: string;
  camera: { name: string; latitude: number; longitude: number; address: string | null; zone: string | null };
  createdAt: string;
  lastSeenAt: string;
  violationCount: number;
  maskProbability: number;
  snapshotUrl: string | null;
  frameSnapshotUrl: string | null;
  assignedUnitId: string | null;
  escalationLevel: number;
  /** The incident's confirmed people (see db/repositories/people.ts). */
  people: AlertPersonEvent[];
}

/** A confirmed person of an alert (incident). */
export interface AlertPersonEvent {
  id: string;
  label: 'no_mask' | 'mask_incorrect';
  /** [x, y, w, h], original-frame pixels, in the frame where the person was last seen. */
  box: [number, number, number, number];
  /** Frames in which the person was seen violating (stored violations). */
  frames: number;
  /** Averaged P(no mask) + P(mask worn incorrectly) over the confirmation window. */
  noMaskProbability: number;
  /** The track's best shot (large, sharp, confident). */
  snapshotUrl: string | null;
  firstSeenAt: string;
  lastSeenAt: string;
  /** The annotated frame in which the person was last seen violating. */
  frameSnapshotUrl: string | null;
  falsePositive: boolean;
  falsePositiveReason: string | null;
}

/** Every event the server pushes, in one map shared by server, workers, tests and dashboard. */
export interface ServerToClientEvents {
  'alert.created': (alert: AlertEvent) => void;
  'alert.updated': (alert: AlertEvent) => void;
}

export type ServerEventName = keyof ServerToClientEvents;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface ClientToServerEvents {}
