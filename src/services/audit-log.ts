/** The audit trail as admins read it (GET /api/v1/audit): who did what to which subject, newest first. */
import type { AuditEvent } from '../contracts/api.ts';
import type { AuditFilter, AuditRepository } from '../db/repositories/audit.ts';
import type { CameraRepository } from '../db/repositories/cameras.ts';
import type { PageKey } from '../db/repositories/paging.ts';
import type { UserRepository } from '../db/repositories/users.ts';
import type { Role } from '../contracts/vocabulary.ts';

function parseDetails(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { text };
  }
}

export function createAuditLogService(deps: { audit: AuditRepository; users: Pick<UserRepository, 'usernames'>; cameras: Pick<CameraRepository, 'names'> }) {
  return {
    /**
     * A page of the trail. Reading it is itself audited (`audit.view`, with the filters), once per search: the
     * pages after the first (a cursor) are the same search.
     */
    async search(by: { actor: { id: string; role: Role }; clientIp: string }, filter: AuditFilter, after: PageKey | null, take: number): Promise<AuditEvent[]> {
      if (!after) {
        await deps.audit.record({
          actorType: 'USER',
          actorId: by.actor.id,
          actorRole: by.actor.role,
          action: 'audit.view',
          subjectType: 'AuditTrail',
          details: { filters: filter, clientIp: by.clientIp },
        });
      }
      const rows = await deps.audit.search(filter, after, take);
      const idsOf = (type: string) => [...new Set(rows.flatMap((r) => (r.actorType === type && r.actorId ? [r.actorId] : [])))];
      const [users, cameras] = await Promise.all([deps.users.usernames(idsOf('USER')), deps.cameras.names(idsOf('CAMERA'))]);
      return rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        actorType: r.actorType as AuditEvent['actorType'],
        actorId: r.actorId,
        actorRole: r.actorRole,
        actorName: r.actorId ? ((r.actorType === 'USER' ? users : cameras).get(r.actorId) ?? null) : null,
        action: r.action,
        subjectType: r.subjectType,
        subjectId: r.subjectId,
        details: parseDetails(r.details),
      }));
    },
  };
}

export type AuditLogService = ReturnType<typeof createAuditLogService>;
