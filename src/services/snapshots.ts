/**
 * Access to face crops: a crop is served only when an alert shows it (its
 * snapshot, a person's best shot, a violation's crop); officers only when that
 * alert is assigned to their unit. Stored frames are never served here: each
 * alert shows its frames through its frame route, rendered so that only its
 * people are unblurred (services/evidence.ts). Each view is audited.
 */
import type { AlertRepository } from '../db/repositories/alerts.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import { alertScopeOf, type Viewer } from '../auth/roles.ts';

export interface SnapshotViewer extends Viewer {
  id: string;
}

export function createSnapshotService(deps: { alerts: AlertRepository; audit: AuditRepository }) {
  return {
    /** `dbPath` is the path as stored, e.g. snapshots/<cameraId>/<frameId>-0.jpg. */
    async maySee(viewer: SnapshotViewer, dbPath: string): Promise<boolean> {
      return deps.alerts.faceCropShown(dbPath, alertScopeOf(viewer));
    },

    /** `subject` is the path below snapshots/. */
    async recordView(viewer: SnapshotViewer, subject: string, clientIp: string): Promise<void> {
      await deps.audit.record({
        actorType: 'USER',
        actorId: viewer.id,
        actorRole: viewer.role,
        action: 'snapshot.view',
        subjectType: 'Snapshot',
        subjectId: subject,
        details: { clientIp },
      });
    },
  };
}

export type SnapshotService = ReturnType<typeof createSnapshotService>;
