/**
 * The statistics' database side: counts grouped in the database (GROUP BY), so
 * a year of violations is never loaded into memory. Time buckets need date
 * arithmetic, which differs between SQLite and PostgreSQL: those two queries
 * are written per provider. Response-time quantiles need the durations
 * themselves: only alerts (grouped sightings, far fewer than violations) that
 * were dispatched or resolved are read, four timestamps each.
 */
import type { PrismaClient } from '../generated/sqlite/client.ts';
import type { Provider } from '../url.ts';
import type { AlertTimes } from '../../domain/stats.ts';

export interface Period {
  from: Date;
  to: Date;
  /** Only these cameras' rows (a dispatcher's zones); absent: every camera. */
  cameraIds?: readonly string[];
}

/** The Prisma condition of a period's cameras. */
const cameraIn = (p: Period) => (p.cameraIds ? { cameraId: { in: [...p.cameraIds] } } : {});

type Table = 'Violation' | 'Alert';
const TIME_COLUMN: Record<Table, string> = { Violation: 'capturedAt', Alert: 'createdAt' };

/** Which provider a client talks to, for the few provider-specific queries (asked once when not told). */
async function detectProvider(prisma: PrismaClient): Promise<Provider> {
  try {
    await prisma.$queryRawUnsafe('SELECT sqlite_version()');
    return 'sqlite';
  } catch {
    // PostgreSQL has no sqlite_version()
    return 'postgresql';
  }
}

export function createStatsRepository(prisma: PrismaClient, knownProvider?: Provider) {
  let provider: Promise<Provider> | undefined = knownProvider ? Promise.resolve(knownProvider) : undefined;

  /** Rows per time bucket, keyed by bucket start (ms since the epoch). */
  async function countByTime(table: Table, p: Period, sizeSeconds: number, utcOffsetMinutes: number): Promise<Map<number, number>> {
    provider ??= detectProvider(prisma);
    const column = TIME_COLUMN[table];
    const offset = utcOffsetMinutes * 60;
    const cameras = p.cameraIds ? [...p.cameraIds] : [];
    if (p.cameraIds && cameras.length === 0) return new Map();
    const sqlite = (await provider) === 'sqlite';
    // Camera ids are bound as parameters, one placeholder each.
    const cameraFilter = p.cameraIds ? ` AND "cameraId" IN (${cameras.map((_, i) => (sqlite ? '?' : `$${i + 5}`)).join(', ')})` : '';
    // Table and column names come from the constants above, never from input. better-sqlite3
    // binds JS numbers as REAL: the casts keep SQLite's division an integer one.
    const sql = sqlite
      ? `SELECT (CAST(strftime('%s', "${column}") AS INTEGER) + CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS bucket, COUNT(*) AS n FROM "${table}" WHERE "${column}" >= ? AND "${column}" < ?${cameraFilter} GROUP BY bucket`
      : `SELECT floor((extract(epoch from "${column}") + $1) / $2)::bigint AS bucket, count(*)::int AS n FROM "${table}" WHERE "${column}" >= $3 AND "${column}" < $4${cameraFilter} GROUP BY 1`;
    const rows = await prisma.$queryRawUnsafe<{ bucket: number | bigint | string; n: number | bigint }[]>(sql, offset, sizeSeconds, p.from, p.to, ...cameras);
    return new Map(rows.map((r) => [(Number(r.bucket) * sizeSeconds - offset) * 1000, Number(r.n)]));
  }

  return {
    violationsByTime: (p: Period, unit: 'hour' | 'day', utcOffsetMinutes: number) => countByTime('Violation', p, unit === 'hour' ? 3600 : 86_400, utcOffsetMinutes),
    alertsByTime: (p: Period, unit: 'hour' | 'day', utcOffsetMinutes: number) => countByTime('Alert', p, unit === 'hour' ? 3600 : 86_400, utcOffsetMinutes),

    async violationsByCamera(p: Period): Promise<Map<string, number>> {
      const groups = await prisma.violation.groupBy({ by: ['cameraId'], where: { capturedAt: { gte: p.from, lt: p.to }, ...cameraIn(p) }, _count: { _all: true } });
      return new Map(groups.map((g) => [g.cameraId, g._count._all]));
    },

    async alertsByCamera(p: Period): Promise<Map<string, number>> {
      const groups = await prisma.alert.groupBy({ by: ['cameraId'], where: { createdAt: { gte: p.from, lt: p.to }, ...cameraIn(p) }, _count: { _all: true } });
      return new Map(groups.map((g) => [g.cameraId, g._count._all]));
    },

    async totals(p: Period): Promise<{ violations: number; alerts: number }> {
      const [violations, alerts] = await Promise.all([
        prisma.violation.count({ where: { capturedAt: { gte: p.from, lt: p.to }, ...cameraIn(p) } }),
        prisma.alert.count({ where: { createdAt: { gte: p.from, lt: p.to }, ...cameraIn(p) } }),
      ]);
      return { violations, alerts };
    },

    /**
     * Workflow timestamps of alerts created in the period that were dispatched or resolved. A reassignment
     * overwrites `dispatchedAt`: the first dispatch comes from the audit trail (every dispatch is audited).
     */
    async handledAlertTimes(p: Period): Promise<AlertTimes[]> {
      const [alerts, dispatches] = await Promise.all([
        prisma.alert.findMany({
          where: { createdAt: { gte: p.from, lt: p.to }, ...cameraIn(p), OR: [{ dispatchedAt: { not: null } }, { resolvedAt: { not: null } }] },
          select: { id: true, createdAt: true, dispatchedAt: true, acknowledgedAt: true, resolvedAt: true },
        }),
        // An alert of the period is dispatched after it was created, so after the period's start.
        prisma.auditEvent.groupBy({
          by: ['subjectId'],
          where: { action: 'alert.dispatch', subjectType: 'Alert', at: { gte: p.from } },
          _min: { at: true },
        }),
      ]);
      const first = new Map(dispatches.map((d) => [d.subjectId, d._min.at]));
      return alerts.map(({ id, ...a }) => ({ ...a, firstDispatchedAt: first.get(id) ?? a.dispatchedAt }));
    },

    /** The people of alerts created in the period, with their false-positive mark (per-camera FP rates). */
    peopleOfAlerts(p: Period): Promise<{ cameraId: string; falsePositive: boolean }[]> {
      return prisma.alertPerson.findMany({
        where: { alert: { createdAt: { gte: p.from, lt: p.to } }, ...cameraIn(p) },
        select: { cameraId: true, falsePositive: true },
      });
    },

    /** Alerts created in the period and resolved, counted by their outcome (null: resolved without one). */
    async resolvedByOutcome(p: Period): Promise<Map<string | null, number>> {
      const groups = await prisma.alert.groupBy({
        by: ['resolutionOutcome'],
        where: { createdAt: { gte: p.from, lt: p.to }, ...cameraIn(p), status: 'RESOLVED' },
        _count: { _all: true },
      });
      return new Map(groups.map((g) => [g.resolutionOutcome, g._count._all]));
    },

    /** Alerts created in the period and resolved, per camera and outcome (null: resolved without one). */
    async resolvedByCameraAndOutcome(p: Period): Promise<{ cameraId: string; outcome: string | null; alerts: number }[]> {
      const groups = await prisma.alert.groupBy({
        by: ['cameraId', 'resolutionOutcome'],
        where: { createdAt: { gte: p.from, lt: p.to }, ...cameraIn(p), status: 'RESOLVED' },
        _count: { _all: true },
      });
      return groups.map((g) => ({ cameraId: g.cameraId, outcome: g.resolutionOutcome, alerts: g._count._all }));
    },

    cameraNames(): Promise<{ id: string; name: string; zone: string | null }[]> {
      return prisma.camera.findMany({ select: { id: true, name: true, zone: true } });
    },
  };
}

export type StatsRepository = ReturnType<typeof createStatsRepository>;
