import type { PrismaClient } from '../generated/sqlite/client.ts';
import type { AuditActorType } from '../../contracts/vocabulary.ts';
import { afterKey, afterKeyAscending, type PageKey } from './paging.ts';
import { isUniqueViolation } from '../unique.ts';
import type { ChainEvent } from '../../domain/audit-chain.ts';

/** A stored AuditEvent, details still JSON text: the form the audit seals hash. */
export type AuditRecord = ChainEvent;

/** A stored seal of the audit trail (prisma/models.prisma AuditSeal). */
export interface AuditSealRow {
  seq: number;
  sealedAt: Date;
  fromAt: Date;
  toAt: Date;
  toId: string;
  count: number;
  hash: string;
  mac: string;
  prunedAt: Date | null;
}

/** Filters of the audit trail search; from inclusive, to exclusive. */
export interface AuditFilter {
  actorId?: string;
  /** Actions starting with this. */
  action?: string;
  subjectType?: string;
  /** Subject ids starting with this. */
  subjectId?: string;
  from?: Date;
  to?: Date;
}

export interface AuditEntry {
  actorType: AuditActorType;
  actorId?: string | null;
  actorRole?: string | null;
  /** Dotted verb, e.g. camera.create, camera.rotate_key, user.create, snapshot.view */
  action: string;
  subjectType: string;
  subjectId?: string | null;
  details?: Record<string, unknown>;
}

/** Who acts: a user (id and role) or the system (the CLI as id `cli`). */
export interface AuditActor {
  type: AuditActorType;
  id?: string;
  role?: string;
}

/** An actor as an entry's actor fields. */
export function actorFields(actor: AuditActor): Pick<AuditEntry, 'actorType' | 'actorId' | 'actorRole'> {
  return { actorType: actor.type, actorId: actor.id ?? null, actorRole: actor.role ?? null };
}

/** Who viewed an alert's evidence, and how often (every view, not only a page of them). */
export interface EvidenceViewer {
  actorType: string;
  actorId: string | null;
  actorRole: string | null;
  views: number;
  firstAt: Date;
  lastAt: Date;
}

// Bound parameters per query, well below SQLite's and PostgreSQL's limits, for long incidents' many crops.
const SUBJECTS_PER_QUERY = 2000;

/** `snapshot.view` events of an alert's frames (`<alertId>/<frameId>`) or of the given face crops, in chunks of subjects. */
function evidenceViewFilters(alertId: string, cropSubjects: readonly string[]): Record<string, unknown>[] {
  const frames = { subjectType: 'AlertFrame', subjectId: { startsWith: `${alertId}/` } };
  const crops: Record<string, unknown>[] = [];
  for (let i = 0; i < cropSubjects.length; i += SUBJECTS_PER_QUERY) {
    crops.push({ subjectType: 'Snapshot', subjectId: { in: cropSubjects.slice(i, i + SUBJECTS_PER_QUERY) } });
  }
  return [frames, ...crops].map((subject) => ({ action: 'snapshot.view', ...subject }));
}

export function createAuditRepository(prisma: PrismaClient) {
  return {
    async record(entry: AuditEntry): Promise<void> {
      await prisma.auditEvent.create({
        data: {
          actorType: entry.actorType,
          actorId: entry.actorId ?? null,
          actorRole: entry.actorRole ?? null,
          action: entry.action,
          subjectType: entry.subjectType,
          subjectId: entry.subjectId ?? null,
          details: entry.details ? JSON.stringify(entry.details) : null,
        },
      });
    },
    list(filter: { subjectType?: string; subjectId?: string; action?: string; limit?: number } = {}) {
      return prisma.auditEvent.findMany({
        where: { subjectType: filter.subjectType, subjectId: filter.subjectId, action: filter.action },
        orderBy: [{ at: 'desc' }, { id: 'desc' }],
        take: filter.limit ?? 100,
      });
    },
    /** The audit trail, newest first (at desc, id desc), or oldest first for an export or archive. */
    search(f: AuditFilter, after: PageKey | null, take: number, order: 'newest' | 'oldest' = 'newest'): Promise<AuditRecord[]> {
      const and: Record<string, unknown>[] = [];
      if (f.actorId) and.push({ actorId: f.actorId });
      if (f.action) and.push({ action: { startsWith: f.action } });
      if (f.subjectType) and.push({ subjectType: f.subjectType });
      if (f.subjectId) and.push({ subjectId: { startsWith: f.subjectId } });
      if (f.from) and.push({ at: { gte: f.from } });
      if (f.to) and.push({ at: { lt: f.to } });
      if (after) and.push(order === 'newest' ? afterKey('at', after) : afterKeyAscending('at', after));
      const dir = order === 'newest' ? 'desc' : 'asc';
      return prisma.auditEvent.findMany({ where: { AND: and }, orderBy: [{ at: dir }, { id: dir }], take });
    },
    /**
     * Events after `after` (exclusive; null: from the start), oldest first (at, id): up to `upTo` (inclusive), or
     * only those before `until`. The segments of the audit seals.
     */
    segment(q: { after: PageKey | null; upTo?: PageKey; until?: Date; take: number }): Promise<AuditRecord[]> {
      const and: Record<string, unknown>[] = [];
      if (q.after) and.push(afterKeyAscending('at', q.after));
      if (q.upTo) and.push({ at: { lte: q.upTo.at }, NOT: { at: q.upTo.at, id: { gt: q.upTo.id } } });
      if (q.until) and.push({ at: { lt: q.until } });
      return prisma.auditEvent.findMany({ where: { AND: and }, orderBy: [{ at: 'asc' }, { id: 'asc' }], take: q.take });
    },
    /** Events after a key (all when null): how many are not sealed yet. */
    countAfter(after: PageKey | null): Promise<number> {
      return prisma.auditEvent.count({ where: after ? afterKeyAscending('at', after) : {} });
    },
    seals(): Promise<AuditSealRow[]> {
      return prisma.auditSeal.findMany({ orderBy: { seq: 'asc' } });
    },
    lastSeal(): Promise<AuditSealRow | null> {
      return prisma.auditSeal.findFirst({ orderBy: { seq: 'desc' } });
    },
    /** false when a seal with this seq exists already (another sealer was first). */
    async insertSeal(seal: Omit<AuditSealRow, 'prunedAt'>): Promise<boolean> {
      try {
        await prisma.auditSeal.create({ data: seal });
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },
    /** Seals with events before `before` (whose events a prune deleted): their segments are no longer recomputed. */
    async markSealsPruned(before: Date, at: Date): Promise<number> {
      return (await prisma.auditSeal.updateMany({ where: { fromAt: { lt: before }, prunedAt: null }, data: { prunedAt: at } })).count;
    },
    /** Deletes the events before `before`; the number deleted. */
    async deleteBefore(before: Date): Promise<number> {
      return (await prisma.auditEvent.deleteMany({ where: { at: { lt: before } } })).count;
    },
    /** An alert's workflow trail (actions alert.*), oldest first. */
    alertTrail(alertId: string, take = 200): Promise<AuditRecord[]> {
      return prisma.auditEvent.findMany({
        where: { subjectType: 'Alert', subjectId: alertId, action: { startsWith: 'alert.' } },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
        take,
      });
    },
    /** Views of an alert's evidence, newest first (at most `take`); `cropSubjects` are its crops' paths below snapshots/. */
    async evidenceViews(alertId: string, cropSubjects: readonly string[], take: number): Promise<AuditRecord[]> {
      const order = [{ at: 'desc' }, { id: 'desc' }] as const;
      const parts = await Promise.all(evidenceViewFilters(alertId, cropSubjects).map((where) => prisma.auditEvent.findMany({ where, orderBy: [...order], take })));
      return parts
        .flat()
        .sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .slice(0, take);
    },
    /** Everyone who viewed an alert's evidence, with their number of views and first and last view. */
    async evidenceViewers(alertId: string, cropSubjects: readonly string[]): Promise<EvidenceViewer[]> {
      const groups = await Promise.all(
        evidenceViewFilters(alertId, cropSubjects).map((where) =>
          prisma.auditEvent.groupBy({ by: ['actorType', 'actorId', 'actorRole'], where, _count: { _all: true }, _min: { at: true }, _max: { at: true } }),
        ),
      );
      const byActor = new Map<string, EvidenceViewer>();
      for (const g of groups.flat()) {
        const key = JSON.stringify([g.actorType, g.actorId, g.actorRole]);
        const first = g._min.at!;
        const last = g._max.at!;
        const seen = byActor.get(key);
        if (!seen) byActor.set(key, { actorType: g.actorType, actorId: g.actorId, actorRole: g.actorRole, views: g._count._all, firstAt: first, lastAt: last });
        else {
          seen.views += g._count._all;
          if (first < seen.firstAt) seen.firstAt = first;
          if (last > seen.lastAt) seen.lastAt = last;
        }
      }
      return [...byActor.values()].sort((a, b) => a.firstAt.getTime() - b.firstAt.getTime());
    },
    /**
     * Events of the given actions, newest first (at desc, id desc); `detailsContain`
     * matches a fragment of the JSON details text (portable across providers).
     */
    page(q: { actions: readonly string[]; detailsContain?: string; after?: PageKey | null; take: number }): Promise<AuditRecord[]> {
      const and: Record<string, unknown>[] = [{ action: q.actions.length === 1 ? q.actions[0] : { in: [...q.actions] } }];
      if (q.detailsContain) and.push({ details: { contains: q.detailsContain } });
      if (q.after) and.push(afterKey('at', q.after));
      return prisma.auditEvent.findMany({ where: { AND: and }, orderBy: [{ at: 'desc' }, { id: 'desc' }], take: q.take });
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
