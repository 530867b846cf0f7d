/**
 * Tamper evidence for the audit trail (chain of custody).
 *
 * `seal` hashes the events not sealed yet, in (at, id) order, onto the last
 * seal's hash and stores the result signed with a key derived from the
 * server's secret key, which the database does not hold. `verify` recomputes
 * every seal: an event changed, deleted or inserted into a sealed stretch, a
 * seal removed from the middle, or a seal recomputed by someone without the
 * key, is reported. Events from the last minutes are left to the next seal, so
 * writes still in flight (each instance stamps its own clock) are not cut off.
 *
 * What it cannot show: the newest seals deleted together with their events
 * (compare the last seal with one recorded elsewhere: `maskwatch audit verify`
 * prints it), and anything done by someone who also has the secret key.
 */
import type { AuditEntry, AuditRecord, AuditRepository, AuditSealRow } from '../db/repositories/audit.ts';
import type { PageKey } from '../db/repositories/paging.ts';
import { chainHasher, GENESIS_HASH, sealMac, sealMacValid } from '../domain/audit-chain.ts';
import type { AuditIntegrity } from '../contracts/api.ts';

/** Events younger than this wait for the next seal. */
export const SEAL_MARGIN_MS = 5 * 60_000;
const PAGE = 1000;

export type IntegrityReport = AuditIntegrity;
type IntegrityProblem = AuditIntegrity['problems'][number];

export interface AuditSealDeps {
  audit: Pick<AuditRepository, 'segment' | 'countAfter' | 'seals' | 'lastSeal' | 'insertSeal' | 'record'>;
  /** The signing key (derived from the server's secret key). */
  key: () => Promise<Buffer>;
  now?: () => Date;
}

const cursorOf = (s: Pick<AuditSealRow, 'toAt' | 'toId'>): PageKey => ({ at: s.toAt, id: s.toId });

export function createAuditSealService(deps: AuditSealDeps) {
  const now = deps.now ?? (() => new Date());

  /** Hashes the events of one stretch onto `previousHash`, page by page. */
  async function hashSegment(previousHash: string, q: { after: PageKey | null; upTo?: PageKey; until?: Date }) {
    const hasher = chainHasher(previousHash);
    let first: AuditRecord | null = null;
    let last: AuditRecord | null = null;
    let after = q.after;
    for (;;) {
      const rows = await deps.audit.segment({ ...q, after, take: PAGE });
      for (const r of rows) hasher.add(r);
      first ??= rows[0] ?? null;
      if (rows.length > 0) last = rows[rows.length - 1]!;
      if (rows.length < PAGE) break;
      after = cursorOf({ toAt: last!.at, toId: last!.id });
    }
    return { count: hasher.count, hash: hasher.digest(), first, last };
  }

  return {
    /** Seals the events not sealed yet (older than the margin); null when there were none or another sealer was first. */
    async seal(): Promise<{ seq: number; count: number; toAt: Date } | null> {
      const key = await deps.key();
      const previous = await deps.audit.lastSeal();
      const until = new Date(now().getTime() - SEAL_MARGIN_MS);
      const segment = await hashSegment(previous?.hash ?? GENESIS_HASH, { after: previous ? cursorOf(previous) : null, until });
      if (!segment.first || !segment.last) return null;
      const fields = {
        seq: (previous?.seq ?? 0) + 1,
        fromAt: segment.first.at,
        toAt: segment.last.at,
        toId: segment.last.id,
        count: segment.count,
        hash: segment.hash,
      };
      const stored = await deps.audit.insertSeal({ ...fields, sealedAt: now(), mac: sealMac(key, fields) });
      return stored ? { seq: fields.seq, count: fields.count, toAt: fields.toAt } : null;
    },

    /** Recomputes every seal from the events; `ok` when nothing differs. Audited as `audit.verify` for whoever asked. */
    async verify(by: Pick<AuditEntry, 'actorType' | 'actorId' | 'actorRole'> & { clientIp?: string }): Promise<IntegrityReport> {
      const key = await deps.key();
      const seals = await deps.audit.seals();
      const problems: IntegrityProblem[] = [];
      let previousHash = GENESIS_HASH;
      let cursor: PageKey | null = null;
      let sealedEvents = 0;
      let prunedSeals = 0;
      for (const [i, seal] of seals.entries()) {
        // Seals are numbered 1, 2, 3… and never deleted (a prune only marks them).
        if (seal.seq !== i + 1) {
          problems.push({ seq: seal.seq, kind: 'missing', detail: `seal ${seal.seq} follows ${i === 0 ? 'no seal' : `seal ${seals[i - 1]!.seq}`}: seals were removed` });
        }
        if (!sealMacValid(key, seal)) problems.push({ seq: seal.seq, kind: 'signature', detail: `seal ${seal.seq} was not made with this server's secret key` });
        if (seal.prunedAt) prunedSeals++;
        else {
          const segment = await hashSegment(previousHash, { after: cursor, upTo: cursorOf(seal) });
          if (segment.count !== seal.count) {
            problems.push({ seq: seal.seq, kind: 'count', detail: `seal ${seal.seq} covers ${seal.count} events up to ${seal.toAt.toISOString()}; ${segment.count} are there now` });
          } else if (segment.hash !== seal.hash) {
            problems.push({ seq: seal.seq, kind: 'content', detail: `an event sealed by seal ${seal.seq} (${seal.fromAt.toISOString()} – ${seal.toAt.toISOString()}) was changed` });
          }
          sealedEvents += segment.count;
        }
        previousHash = seal.hash;
        cursor = cursorOf(seal);
      }
      const last = seals[seals.length - 1];
      const unsealedEvents = await deps.audit.countAfter(cursor);
      const { clientIp, ...actor } = by;
      await deps.audit.record({
        ...actor,
        action: 'audit.verify',
        subjectType: 'AuditTrail',
        details: { ok: problems.length === 0, seals: seals.length, problems: problems.length, ...(clientIp ? { clientIp } : {}) },
      });
      return {
        ok: problems.length === 0,
        seals: seals.length,
        prunedSeals,
        sealedEvents,
        unsealedEvents,
        lastSeal: last ? { seq: last.seq, sealedAt: last.sealedAt.toISOString(), toAt: last.toAt.toISOString(), hash: last.hash } : null,
        problems,
      };
    },
  };
}

export type AuditSealService = ReturnType<typeof createAuditSealService>;
