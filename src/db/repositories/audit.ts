import type { PrismaClient } from '../generated/sqlite/client.ts';
import type { AuditActorType } from '../../contracts/vocabulary.ts';
import { afterKey, type PageKey } from './paging.ts';

/** A stored AuditEvent, details still JSON text. */
export interface AuditRecord {
  id: string;
  at: Date;
  actorType: string;
  actorId: string | null;
  actorRole: string | null;
  action: string;
  subjectType: string;
  subjectId: string | null;
  details: string | null;
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
    /** The audit trail, newest first (at desc, id desc). */
    search(f: AuditFilter, after: PageKey | null, take: number): Promise<AuditRecord[]> {
      const and: Record<string, unknown>[] = [];
      if (f.actorId) and.push({ actorId: f.actorId });
      if (f.action) and.push({ action: { startsWith: f.action } });
      if (f.subjectType) and.push({ subjectType: f.subjectType });
      if (f.subjectId) and.push({ subjectId: { startsWith: f.subjectId } });
      if (f.from) and.push({ at: { gte: f.from } });
      if (f.to) and.push({ at: { lt: f.to } });
      if (after) and.push(afterKey('at', after));
      return prisma.auditEvent.findMany({ where: { AND: and }, orderBy: [{ at: 'desc' }, { id: 'desc' }], take });
    },
    /** An alert's workflow trail (actions alert.*), oldest first. */
    alertTrail(alertId: string, take = 200): Promise<AuditRecord[]> {
      return prisma.auditEvent.findMany({
        where: { subjectType: 'Alert', subjectId: alertId, action: { startsWith: 'alert.' } },
        orderBy: [{ at: 'asc' }, { id: 'asc' }],
        take,
      });
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
