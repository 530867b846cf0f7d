/**
 * Incident people use cases: an alert with its people, one person's track
 * (crops over time), and marking one person a false positive without closing
 * the incident (audited in the repository transaction, announced once).
 */
import type { AlertRepository } from '../db/repositories/alerts.ts';
import type { PeopleRepository } from '../db/repositories/incidents.ts';
import type { AlertEvent } from '../realtime/events.ts';
import { maySeeAlert, type Viewer } from '../auth/roles.ts';
import { alertFrameUrl, snapshotUrl, toAlertEvent } from './alert-view.ts';
import type { Announcer } from './announcer.ts';
import { notFound, ServiceError } from './errors.ts';

export interface PersonTrackItem {
  capturedAt: string;
  box: [number, number, number, number];
  noMaskProbability: number;
  snapshotUrl: string | null;
  frameSnapshotUrl: string | null;
}

export function createPeopleService(deps: { alerts: AlertRepository; people: PeopleRepository; announcer: Announcer; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  /** Officers see only alerts assigned to their unit, dispatchers with zones only their zones'; to them any other alert does not exist. */
  async function visible(alertId: string, viewer: Viewer) {
    const alert = await deps.alerts.findWithCamera(alertId);
    if (!alert || !maySeeAlert(viewer, { assignedUnitId: alert.assignedUnitId, zone: alert.camera.zone })) {
      throw notFound(`alert ${alertId}`);
    }
    return alert;
  }

  return {
    async alert(alertId: string, viewer: Viewer): Promise<AlertEvent> {
      return toAlertEvent(await visible(alertId, viewer));
    },

    async track(alertId: string, personId: string, viewer: Viewer): Promise<PersonTrackItem[]> {
      await visible(alertId, viewer);
      const rows = await deps.people.track(alertId, personId);
      if (!rows) throw notFound(`person ${personId} in alert ${alertId}`);
      return rows.map((r) => ({
        capturedAt: r.capturedAt.toISOString(),
        box: [r.boxX, r.boxY, r.boxW, r.boxH],
        noMaskProbability: r.noMaskProbability,
        snapshotUrl: snapshotUrl(r.faceSnapshotPath),
        frameSnapshotUrl: alertFrameUrl(alertId, r.frameSnapshotPath),
      }));
    },

    async markFalsePositive(alertId: string, personId: string, reason: string, actor: Viewer & { userId: string; username: string }): Promise<AlertEvent> {
      await visible(alertId, actor);
      const trimmed = reason.trim();
      if (!trimmed) throw new ServiceError('INVALID', 'a reason is required', 'validation');
      const outcome = await deps.people.markFalsePositive(alertId, personId, trimmed, actor, now());
      if (!outcome.ok) {
        throw outcome.kind === 'NOT_FOUND'
          ? new ServiceError('NOT_FOUND', outcome.message, 'not-found')
          : new ServiceError('CONFLICT', outcome.message, 'already-marked');
      }
      const event = toAlertEvent(outcome.alert);
      await deps.announcer.announce({ kind: 'reviewed', alert: event });
      return event;
    },
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
