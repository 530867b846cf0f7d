import type { PrismaClient } from '../generated/sqlite/client.ts';

export type ActorType = 'USER' | 'CAMERA' | 'SYSTEM';

export interface AuditEntry {
  actorType: ActorType;
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
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
