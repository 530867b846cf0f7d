/**
 * Access to snapshot images: officers see only images of alerts assigned to
 * their own unit (directly, or through one of the alert's violations);
 * dispatchers and admins see every snapshot. Each view is audited.
 */
import type { AlertRepository } from '../db/repositories/alerts.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { Role } from '../contracts/vocabulary.ts';

export interface SnapshotViewer {
  id: string;
  role: Role;
  unitId: string | null;
}

export function createSnapshotService(deps: { alerts: AlertRepository; audit: AuditRepository }) {
  return {
    /** `dbPath` is the path as stored, e.g. snapshots/<cameraId>/<frameId>-0.jpg. */
    async maySee(viewer: SnapshotViewer, dbPath: string): Promise<boolean> {
      if (viewer.role !== 'OFFICER') return true;
      if (!viewer.unitId) return false;
      return deps.alerts.snapshotBelongsToUnit(viewer.unitId, dbPath);
    },

    /** `subject` is the path below snapshots/. */
    async recordView(viewer: SnapshotViewer, subject: string): Promise<void> {
      await deps.audit.record({ actorType: 'USER', actorId: viewer.id, actorRole: viewer.role, action: 'snapshot.view', subjectType: 'Snapshot', subjectId: subject });
    },
  };
}

export type SnapshotService = ReturnType<typeof createSnapshotService>;
