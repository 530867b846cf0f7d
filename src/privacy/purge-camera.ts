import type { Logger } from 'pino';
import type { Db } from '../db/client.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import { deleteCameraFolder } from './data-files.ts';

export interface PurgeActor {
  id: string;
  role: string;
}

export interface PurgeReport {
  cameraId: string;
  violationsDeleted: number;
  alertsDeleted: number;
}

export class CameraNotFoundError extends Error {
  constructor(readonly cameraId: string) {
    super(`no camera ${cameraId}`);
    this.name = 'CameraNotFoundError';
  }
}

/**
 * Erases what a camera recorded about people: its violations, its alerts and
 * every frame / snapshot file, then writes an AuditEvent (camera.purge). The
 * camera itself stays (disable or delete it separately); frames it sends later
 * are recorded as usual. Database rows go first: if deleting files fails, the
 * retention sweep removes them later, while a row pointing at a deleted file
 * would only be a 404.
 */
export async function purgeCameraData(
  deps: { prisma: Db; audit: AuditRepository; dataDir: string; logger: Logger },
  cameraId: string,
  actor: PurgeActor,
): Promise<PurgeReport> {
  const camera = await deps.prisma.camera.findUnique({ where: { id: cameraId }, select: { id: true, name: true } });
  if (!camera) throw new CameraNotFoundError(cameraId);
  const [violations, alerts] = await deps.prisma.$transaction([
    deps.prisma.violation.deleteMany({ where: { cameraId } }),
    deps.prisma.alert.deleteMany({ where: { cameraId } }),
  ]);
  await deleteCameraFolder(deps.dataDir, 'snapshots', cameraId);
  await deleteCameraFolder(deps.dataDir, 'frames', cameraId);
  const report = { cameraId, violationsDeleted: violations.count, alertsDeleted: alerts.count };
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
}
