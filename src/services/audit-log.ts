/**
 * The audit trail as admins read it (GET /api/v1/audit: who did what to which subject, newest first), who saw an
 * alert's evidence, and its export and pruning (maskwatch audit).
 */
import type { AuditEvent, EvidenceAccess } from '../contracts/api.ts';
import type { AuditEntry, AuditFilter, AuditRecord, AuditRepository } from '../db/repositories/audit.ts';
import type { CameraRepository } from '../db/repositories/cameras.ts';
import type { EvidenceRepository } from '../db/repositories/evidence.ts';
import type { PageKey } from '../db/repositories/paging.ts';
import type { UserRepository } from '../db/repositories/users.ts';
import type { Role } from '../contracts/vocabulary.ts';
import { notFound, ServiceError } from './errors.ts';
import { SNAPSHOTS_DIR, storedCropPath } from './alert-view.ts';

/** Most views listed one by one in an alert's evidence access (the viewers' summary counts them all). */
export const EVIDENCE_VIEWS_LISTED = 200;

type Reader = { actor: { id: string; role: Role }; clientIp: string };
/** Who exports or prunes the trail (the CLI: SYSTEM / cli). */
type Operator = Pick<AuditEntry, 'actorType' | 'actorId' | 'actorRole'>;

/** Where an export or archive goes: pages in order, then `finish` (flushed to disk) before anything is deleted. */
export interface AuditSink {
  write(events: AuditEvent[]): Promise<void>;
  finish(): Promise<void>;
}

/** Events per page of an export or archive. */
const EXPORT_PAGE = 1000;
/** The trail of the last day is never pruned: instances' clocks and in-flight writes stay clear of the cut. */
export const MIN_PRUNE_AGE_MS = 24 * 3600 * 1000;

function parseDetails(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { text };
  }
}

export function createAuditLogService(deps: {
  audit: AuditRepository;
  now?: () => Date;
  evidence: Pick<EvidenceRepository, 'crops'>;
  users: Pick<UserRepository, 'usernames'>;
  cameras: Pick<CameraRepository, 'names'>;
}) {
  /** Usernames and camera names of the given actors. */
  async function actorNames(actors: readonly Pick<AuditRecord, 'actorType' | 'actorId'>[]) {
    const idsOf = (type: string) => [...new Set(actors.flatMap((r) => (r.actorType === type && r.actorId ? [r.actorId] : [])))];
    const [users, cameras] = await Promise.all([deps.users.usernames(idsOf('USER')), deps.cameras.names(idsOf('CAMERA'))]);
    return (r: Pick<AuditRecord, 'actorType' | 'actorId'>) => (r.actorId ? ((r.actorType === 'USER' ? users : cameras).get(r.actorId) ?? null) : null);
  }

  async function toEvents(rows: readonly AuditRecord[]): Promise<AuditEvent[]> {
    const nameOf = await actorNames(rows);
    return rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actorType: r.actorType as AuditEvent['actorType'],
      actorId: r.actorId,
      actorRole: r.actorRole,
      actorName: nameOf(r),
      action: r.action,
      subjectType: r.subjectType,
      subjectId: r.subjectId,
      details: parseDetails(r.details),
    }));
  }

  /** The audit subjects of an alert's face crops (views record a crop's path below snapshots/, api/routes/snapshots.ts); null: no such alert. */
  async function cropSubjects(alertId: string): Promise<string[] | null> {
    const crops = await deps.evidence.crops(alertId);
    if (!crops) return null;
    const stored = [...crops.paths, ...crops.faces.map((f) => storedCropPath(f.cameraId, f.frameId, f.faceIndex))];
    return [...new Set(stored.map((p) => p.slice(SNAPSHOTS_DIR.length + 1)))];
  }

  /** Everyone who viewed an alert's evidence, first viewer first, with their names. */
  async function viewersOf(alertId: string, subjects: readonly string[]): Promise<EvidenceAccess['viewers']> {
    const viewers = await deps.audit.evidenceViewers(alertId, subjects);
    const nameOf = await actorNames(viewers);
    return viewers.map((v) => ({
      actorType: v.actorType as AuditEvent['actorType'],
      actorId: v.actorId,
      actorRole: v.actorRole,
      actorName: nameOf(v),
      views: v.views,
      firstAt: v.firstAt.toISOString(),
      lastAt: v.lastAt.toISOString(),
    }));
  }

  /** Every event of the filter, oldest first, written to the sink page by page and finished; the number of events. */
  async function writeAll(filter: AuditFilter, sink: AuditSink): Promise<number> {
    let after: PageKey | null = null;
    let count = 0;
    for (;;) {
      const rows = await deps.audit.search(filter, after, EXPORT_PAGE, 'oldest');
      if (rows.length > 0) await sink.write(await toEvents(rows));
      count += rows.length;
      if (rows.length < EXPORT_PAGE) break;
      const last = rows[rows.length - 1]!;
      after = { at: last.at, id: last.id };
    }
    await sink.finish();
    return count;
  }

  return {
    /**
     * The whole trail of the filter, oldest first, handed over page by page (`maskwatch audit export`, e.g. to a
     * SIEM or an archive); audited as `audit.export` with the filters and the count.
     */
    async export(by: Operator, filter: AuditFilter, sink: AuditSink): Promise<number> {
      const count = await writeAll(filter, sink);
      await deps.audit.record({ ...by, action: 'audit.export', subjectType: 'AuditTrail', details: { filters: filter, events: count } });
      return count;
    },

    /**
     * Deletes the trail before `before`, after writing it to `archive` (when given): what is deleted was
     * archived and flushed first. Refused for the last day's events. Audited as `audit.prune`.
     */
    async prune(by: Operator, before: Date, archive: AuditSink | null): Promise<{ archived: number | null; deleted: number }> {
      const latest = new Date((deps.now?.() ?? new Date()).getTime() - MIN_PRUNE_AGE_MS);
      if (before > latest) throw new ServiceError('INVALID', `only events older than a day can be pruned: the cut must be ${latest.toISOString()} or earlier`);
      const archived = archive ? await writeAll({ to: before }, archive) : null;
      const deleted = await deps.audit.deleteBefore(before);
      // Their seals stay in the chain; their events are in the archive now, not here to recompute.
      const sealsPruned = await deps.audit.markSealsPruned(before, deps.now?.() ?? new Date());
      await deps.audit.record({ ...by, action: 'audit.prune', subjectType: 'AuditTrail', details: { before: before.toISOString(), archived, deleted, sealsPruned } });
      return { archived, deleted };
    },

    /**
     * A page of the trail. Reading it is itself audited (`audit.view`, with the filters), once per search: the
     * pages after the first (a cursor) are the same search.
     */
    async search(by: Reader, filter: AuditFilter, after: PageKey | null, take: number): Promise<AuditEvent[]> {
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
      return toEvents(await deps.audit.search(filter, after, take));
    },

    /**
     * Who saw an alert's evidence: every view of its annotated frames and of its face crops (chain of custody).
     * Reading it is audited (`audit.view` on the alert).
     */
    async evidenceAccess(by: Reader, alertId: string): Promise<EvidenceAccess> {
      const subjects = await cropSubjects(alertId);
      if (!subjects) throw notFound(`alert ${alertId}`);
      const [rows, viewers] = await Promise.all([deps.audit.evidenceViews(alertId, subjects, EVIDENCE_VIEWS_LISTED + 1), viewersOf(alertId, subjects)]);
      await deps.audit.record({
        actorType: 'USER',
        actorId: by.actor.id,
        actorRole: by.actor.role,
        action: 'audit.view',
        subjectType: 'Alert',
        subjectId: alertId,
        details: { evidenceAccess: true, clientIp: by.clientIp },
      });
      return {
        viewers,
        items: await toEvents(rows.slice(0, EVIDENCE_VIEWS_LISTED)),
        truncated: rows.length > EVIDENCE_VIEWS_LISTED,
      };
    },

    /**
     * The chain of custody an evidence package carries (services/evidence-package.ts): who viewed the alert's
     * evidence, and its earlier exports, oldest first. Not audited itself: the export that reads it is.
     */
    async custody(alertId: string): Promise<EvidenceCustody | null> {
      const subjects = await cropSubjects(alertId);
      if (!subjects) return null;
      const [viewers, exports] = await Promise.all([
        viewersOf(alertId, subjects),
        deps.audit.list({ subjectType: 'Alert', subjectId: alertId, action: 'evidence.export', limit: 1000 }).then(toEvents),
      ]);
      return {
        viewers,
        exports: exports.reverse().map((e) => ({
          at: e.at,
          actorId: e.actorId,
          actorName: e.actorName,
          completed: e.details?.completed === true,
          manifestSha256: typeof e.details?.manifestSha256 === 'string' ? e.details.manifestSha256 : null,
          caseReference: caseReferenceOf(e.details),
        })),
      };
    },
  };
}

/** Who viewed an alert's evidence, and who exported it before, as an evidence package records them. */
export interface EvidenceCustody {
  viewers: EvidenceAccess['viewers'];
  /** `caseReference`: the case whose package held the incident; null for the incident's own package. */
  exports: Array<{ at: string; actorId: string | null; actorName: string | null; completed: boolean; manifestSha256: string | null; caseReference: string | null }>;
}

const caseReferenceOf = (details: Record<string, unknown> | null | undefined): string | null => {
  const c = details?.case as { reference?: unknown } | undefined;
  return typeof c?.reference === 'string' ? c.reference : null;
};

export type AuditLogService = ReturnType<typeof createAuditLogService>;
