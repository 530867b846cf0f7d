/**
 * The dispatch workflow's unit of work: every read and write of one alert
 * transition — the alert, the units whose status follows from it, the
 * AuditEvent — inside one transaction. The rules (state machine, which unit is
 * freed) are in src/services/alerts.ts; this file only does I/O.
 *
 * The client type is the SQLite one; the PostgreSQL client has the same model API.
 */
import type { Prisma, PrismaClient } from '../generated/sqlite/client.ts';
import { OPEN_ALERT_STATUSES, type AlertStatus, type UnitStatus } from '../../contracts/vocabulary.ts';
import type { TransitionChanges } from '../../domain/lifecycle.ts';
import { withCamera, type AlertRecord } from './alerts.ts';

export interface DispatchTx {
  alertState(alertId: string): Promise<{ status: AlertStatus; assignedUnitId: string | null } | null>;
  unit(unitId: string): Promise<{ status: UnitStatus; callSign: string } | null>;
  /** Writes the change only if the alert is still as read (compare-and-set); false when it was not. */
  writeTransition(alertId: string, expected: { status: AlertStatus; assignedUnitId: string | null }, changes: TransitionChanges): Promise<boolean>;
  /** AVAILABLE → BUSY. */
  markBusy(unitId: string): Promise<void>;
  /** BUSY → AVAILABLE when the unit has no open alert left. */
  releaseIfIdle(unitId: string): Promise<void>;
  unitPosition(unitId: string): Promise<{ latitude: number | null; longitude: number | null; positionAt: Date | null } | null>;
  audit(entry: { actorId: string; actorRole: string; action: string; alertId: string; at: Date; details: Record<string, unknown> }): Promise<void>;
  alert(alertId: string): Promise<AlertRecord | null>;
}

export function createDispatchRepository(prisma: PrismaClient) {
  const open = [...OPEN_ALERT_STATUSES];
  const unitOfWork = (tx: Prisma.TransactionClient): DispatchTx => ({
    alertState: (alertId) => tx.alert.findUnique({ where: { id: alertId }, select: { status: true, assignedUnitId: true } }),
    unit: (unitId) => tx.patrolUnit.findUnique({ where: { id: unitId }, select: { status: true, callSign: true } }),
    async writeTransition(alertId, expected, changes) {
      const written = await tx.alert.updateMany({ where: { id: alertId, status: expected.status, assignedUnitId: expected.assignedUnitId }, data: changes });
      return written.count > 0;
    },
    async markBusy(unitId) {
      await tx.patrolUnit.updateMany({ where: { id: unitId, status: 'AVAILABLE' }, data: { status: 'BUSY' } });
    },
    async releaseIfIdle(unitId) {
      const stillOpen = await tx.alert.count({ where: { assignedUnitId: unitId, status: { in: open } } });
      if (stillOpen === 0) await tx.patrolUnit.updateMany({ where: { id: unitId, status: 'BUSY' }, data: { status: 'AVAILABLE' } });
    },
    unitPosition: (unitId) => tx.patrolUnit.findUnique({ where: { id: unitId }, select: { latitude: true, longitude: true, positionAt: true } }),
    async audit(e) {
      await tx.auditEvent.create({
        data: {
          actorType: 'USER',
          actorId: e.actorId,
          actorRole: e.actorRole,
          action: e.action,
          subjectType: 'Alert',
          subjectId: e.alertId,
          at: e.at,
          details: JSON.stringify(e.details),
        },
      });
    },
    alert: (alertId) => tx.alert.findUnique({ where: { id: alertId }, include: withCamera }),
  });

  return {
    /** Runs `work` in one transaction; it commits when `work` resolves (whatever it returns). */
    inTransaction<T>(work: (tx: DispatchTx) => Promise<T>): Promise<T> {
      return prisma.$transaction((tx: Prisma.TransactionClient) => work(unitOfWork(tx)));
    },
  };
}

export type DispatchRepository = ReturnType<typeof createDispatchRepository>;
