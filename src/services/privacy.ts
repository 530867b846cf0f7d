/**
 * Privacy use cases: erasing what a camera recorded (admin action) and the
 * retention policy (a repeatable job). Database work is in
 * src/db/repositories/privacy.ts, file work in src/privacy/data-files.ts.
 */
import type { Logger } from 'pino';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { PrivacyRepository } from '../db/repositories/privacy.ts';
import { deleteCameraFolder, deleteDataFile, sweepOldFiles } from '../privacy/data-files.ts';
import { retentionCutoff } from '../privacy/retention-policy.ts';
import { ServiceError, notFound } from './errors.ts';

export interface PurgeActor {
  id: string;
  role: string;
}

export interface PurgeReport {
  cameraId: string;
  violationsDeleted: number;
  alertsDeleted: number;
}

export interface RetentionReport {
  cutoff: string;
  violationsAnonymised: number;
  alertsAnonymised: number;
  filesDeleted: number;
  orphanFilesDeleted: number;
  sessionsDeleted: number;
}

export interface PrivacyServiceDeps {
  privacy: PrivacyRepository;
  audit: AuditRepository;
  dataDir: string;
  logger: Logger;
  now?: () => Date;
}

export function createPrivacyService(deps: PrivacyServiceDeps) {
  return {
    /**
     * Erases what a camera recorded about people: its violations, its alerts and
     * every frame / snapshot file, then writes an AuditEvent (camera.purge). The
     * camera itself stays (disable or delete it separately); frames it sends later
     * are recorded as usual. Database rows go first: if deleting files fails, the
     * retention sweep removes them later, while a row pointing at a deleted file
     * would only be a 404.
     */
    async purgeCamera(cameraId: string, actor: PurgeActor): Promise<PurgeReport> {
      const camera = await deps.privacy.cameraName(cameraId);
      if (!camera) throw notFound(`camera ${cameraId}`);
      const held = await deps.privacy.heldAlertsOfCamera(cameraId);
      if (held > 0) {
        throw new ServiceError('CONFLICT', `${held} alert${held === 1 ? '' : 's'} of ${camera.name} ${held === 1 ? 'is' : 'are'} on evidence hold: release ${held === 1 ? 'it' : 'them'} first`, 'evidence-on-hold');
      }
      const deleted = await deps.privacy.deleteCameraRecords(cameraId);
      await deleteCameraFolder(deps.dataDir, 'snapshots', cameraId);
      await deleteCameraFolder(deps.dataDir, 'frames', cameraId);
      const report = { cameraId, violationsDeleted: deleted.violations, alertsDeleted: deleted.alerts };
      await deps.audit.record({
        actorType: 'USER',
        actorId: actor.id,
        actorRole: actor.role,
        action: 'camera.purge',
        subjectType: 'Camera',
        subjectId: cameraId,
        details: { name: camera.name, violationsDeleted: report.violationsDeleted, alertsDeleted: report.alertsDeleted },
      });
      deps.logger.warn({ ...report, actorId: actor.id }, 'camera data purged');
      return report;
    },

    /**
     * Enforces the retention policy once (idempotent; the BullMQ job calls it):
     *
     * - Violations captured before the cutoff lose their images: the face crop and
     *   the annotated frame are deleted and both paths set to null. The rows stay —
     *   camera, time, box, probabilities — as anonymised counts for statistics.
     * - Alerts pointing at a deleted image, or last seen before the cutoff, lose
     *   their snapshot paths too (the rows and their workflow timestamps stay).
     * - Any file under frames/ or snapshots/ older than the cutoff is deleted even
     *   if no row points to it (crash leftovers).
     * - Sessions that expired before the cutoff are deleted.
     *
     * `batchSize` rows per batch, so a first run over a large backlog keeps memory flat.
     */
    async enforceRetention(retentionDays: number, batchSize = 500): Promise<RetentionReport> {
      const now = deps.now?.() ?? new Date();
      const cutoff = retentionCutoff(now, retentionDays);
      const report: RetentionReport = {
        cutoff: cutoff.toISOString(),
        violationsAnonymised: 0,
        alertsAnonymised: 0,
        filesDeleted: 0,
        orphanFilesDeleted: 0,
        sessionsDeleted: 0,
      };
      // Evidence on hold stays, whatever its age: its files (a frame may also be another alert's) and the faces its frames are blurred by.
      const held = await deps.privacy.heldEvidence();
      const deleteFiles = async (paths: Iterable<string>) => {
        for (const p of paths) if (!held.paths.has(p) && (await deleteDataFile(deps.dataDir, p))) report.filesDeleted += 1;
      };

      // Files first, then the paths: a crash in between leaves a path to a missing
      // file (served as 404), never a file nobody will delete.
      for (;;) {
        const batch = await deps.privacy.violationsWithImages(cutoff, batchSize);
        if (batch.length === 0) break;
        const paths = new Set(batch.flatMap((v) => v.paths));
        await deleteFiles(paths);
        // Alerts show their first violation's images: those files are gone now.
        const cleared = await deps.privacy.clearViolationImages(batch.map((v) => v.id), [...paths]);
        report.violationsAnonymised += cleared.violations;
        report.alertsAnonymised += cleared.alerts;
      }
      for (;;) {
        const batch = await deps.privacy.alertsWithImages(cutoff, batchSize);
        if (batch.length === 0) break;
        await deleteFiles(new Set(batch.flatMap((a) => a.paths)));
        report.alertsAnonymised += await deps.privacy.clearAlertImages(batch.map((a) => a.id));
      }

      // Sightings past retention (unconfirmed tracks' crops are swept as old files just below).
      await deps.privacy.deleteSightingsBefore(cutoff, held.frameIds);
      report.orphanFilesDeleted = (await sweepOldFiles(deps.dataDir, 'snapshots', cutoff, held.paths)) + (await sweepOldFiles(deps.dataDir, 'frames', cutoff, held.paths));
      report.sessionsDeleted = await deps.privacy.deleteSessionsExpiredBefore(cutoff);

      const changed = report.violationsAnonymised + report.alertsAnonymised + report.filesDeleted + report.orphanFilesDeleted;
      if (changed > 0) {
        await deps.audit.record({
          actorType: 'SYSTEM',
          action: 'retention.enforce',
          subjectType: 'Retention',
          details: { ...report, retentionDays },
        });
      }
      deps.logger.info({ ...report, retentionDays }, 'retention enforced');
      return report;
    },
  };
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;
