import type { AlertEvent } from '../../src/realtime/events.ts';

/** An alert as the socket and the dashboard see it: one NEW, unassigned person-less alert unless `patch` says otherwise. */
export function alertEvent(id: string, createdAt: string = new Date().toISOString(), patch: Partial<AlertEvent> = {}): AlertEvent {
  return {
    id,
    status: 'NEW',
    cameraId: 'c1',
    camera: { name: 'Cam', latitude: 40, longitude: -3, address: null, zone: null },
    createdAt,
    lastSeenAt: createdAt,
    violationCount: 1,
    noMaskProbability: 0.9,
    maskProbability: 0.9,
    snapshotUrl: null,
    frameSnapshotUrl: null,
    assignedUnitId: null,
    escalationLevel: 0,
    people: [],
    resolutionOutcome: null,
    noteCount: 0,
    ...patch,
  };
}
