import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import { deleteDataFile, sweepOldFiles } from './data-files.ts';
import { retentionCutoff } from './retention-policy.ts';

export interface RetentionDeps {
  prisma: Db;
  audit: AuditRepository;
  dataDir: string;
  retentionDays: number;
  logger: Logger;
  now?: () => Date;
  /** Rows per batch, so a first run over a large backlog keeps memory flat. */
  batchSize?: number;
}

export interface RetentionReport {
  cutoff: string;
  violationsAnonymised: number;
  alertsAnonymised: number;
  filesDeleted: number;
  orphanFilesDeleted: number;
  sessionsDeleted: number;
}

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
 */
export async function enforceRetention(deps: RetentionDeps): Promise<RetentionReport> {
  const now = deps.now?.() ?? new Date();
  const cutoff = retentionCutoff(now, deps.retentionDays);
  const take = deps.batchSize ?? 500;
  const { prisma } = deps;
  const report: RetentionReport = {
    cutoff: cutoff.toISOString(),
    violationsAnonymised: 0,
    alertsAnonymised: 0,
    filesDeleted: 0,
    orphanFilesDeleted: 0,
    sessionsDeleted: 0,
  };

  const deleteFiles = async (paths: Iterable<string>) => {
    for (const p of paths) if (await deleteDataFile(deps.dataDir, p)) report.filesDeleted += 1;
  };

  // Files first, then the paths: a crash in between leaves a path to a missing
  // file (served as 404), never a file nobody will delete.
  for (;;) {
    const batch = await prisma.violation.findMany({
      where: { capturedAt: { lt: cutoff }, OR: [{ faceSnapshotPath: { not: null } }, { frameSnapshotPath: { not: null } }] },
      select: { id: true, faceSnapshotPath: true, frameSnapshotPath: true },
      take,
    });
    if (batch.length === 0) break;
    const paths = new Set(batch.flatMap((v) => [v.faceSnapshotPath, v.frameSnapshotPath]).filter((p): p is string => !!p));
    await deleteFiles(paths);
    const list = [...paths];
    const res = await prisma.violation.updateMany({
      where: { id: { in: batch.map((v) => v.id) } },
      data: { faceSnapshotPath: null, frameSnapshotPath: null },
    });
    report.violationsAnonymised += res.count;
    // Alerts show their first violation's images: those files are gone now.
    const a1 = await prisma.alert.updateMany({ where: { snapshotPath: { in: list } }, data: { snapshotPath: null } });
    const a2 = await prisma.alert.updateMany({ where: { frameSnapshotPath: { in: list } }, data: { frameSnapshotPath: null } });
    report.alertsAnonymised += a1.count + a2.count;
  }

  for (;;) {
    const batch = await prisma.alert.findMany({
      where: { lastSeenAt: { lt: cutoff }, OR: [{ snapshotPath: { not: null } }, { frameSnapshotPath: { not: null } }] },
      select: { id: true, snapshotPath: true, frameSnapshotPath: true },
      take,
    });
    if (batch.length === 0) break;
    await deleteFiles(new Set(batch.flatMap((a) => [a.snapshotPath, a.frameSnapshotPath]).filter((p): p is string => !!p)));
    const res = await prisma.alert.updateMany({
      where: { id: { in: batch.map((a) => a.id) } },
      data: { snapshotPath: null, frameSnapshotPath: null },
    });
    report.alertsAnonymised += res.count;
  }

  report.orphanFilesDeleted =
    (await sweepOldFiles(deps.dataDir, 'snapshots', cutoff)) + (await sweepOldFiles(deps.dataDir, 'frames', cutoff));
  report.sessionsDeleted = (await prisma.session.deleteMany({ where: { expiresAt: { lt: cutoff } } })).count;

  const changed = report.violationsAnonymised + report.alertsAnonymised + report.filesDeleted + report.orphanFilesDeleted;
  if (changed > 0) {
    await deps.audit.record({
      actorType: 'SYSTEM',
      action: 'retention.enforce',
      subjectType: 'Retention',
      details: { ...report, retentionDays: deps.retentionDays },
    });
  }
  deps.logger.info({ ...report, retentionDays: deps.retentionDays }, 'retention enforced');
  return report;
}
