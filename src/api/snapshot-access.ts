import type { PrismaClient } from '../db/generated/sqlite/client.ts';

/**
 * Whether an OFFICER may see a snapshot: only images of alerts assigned to their
 * own unit (directly, or through one of the alert's violations). `dbPath` is the
 * path as stored, e.g. snapshots/<cameraId>/<frameId>-0.jpg. Dispatchers and
 * admins see every snapshot; callers check the role first.
 */
export async function officerMaySeeSnapshot(prisma: PrismaClient, unitId: string | null, dbPath: string): Promise<boolean> {
  if (!unitId) return false;
  const alert = await prisma.alert.findFirst({
    where: { assignedUnitId: unitId, OR: [{ snapshotPath: dbPath }, { frameSnapshotPath: dbPath }] },
    select: { id: true },
  });
  if (alert) return true;
  const violation = await prisma.violation.findFirst({
    where: { alert: { assignedUnitId: unitId }, OR: [{ faceSnapshotPath: dbPath }, { frameSnapshotPath: dbPath }] },
    select: { id: true },
  });
  return violation !== null;
}

/**
 * Whether an alert exists AND is assigned to this officer's unit. Officers get
 * one answer (404) for every refused action on an alert that is not theirs,
 * so 403 / 409 cannot tell them that another unit's alert exists.
 */
export async function officerHasAlert(prisma: PrismaClient, unitId: string | null, alertId: string): Promise<boolean> {
  if (!unitId) return false;
  return (await prisma.alert.findFirst({ where: { id: alertId, assignedUnitId: unitId }, select: { id: true } })) !== null;
}
