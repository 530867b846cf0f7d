/**
 * Evidence holds: an admin keeps an alert's evidence past retention (a complaint, an inquiry, a court
 * request), says why, and releases it when the matter is closed; the retention run then deletes it as
 * usual (src/services/privacy.ts). Holding and releasing are audited with the reason: keeping faces
 * longer than the policy says is a decision someone answers for.
 */
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { EvidenceHoldRow, PrivacyRepository } from '../db/repositories/privacy.ts';
import type { UserRepository } from '../db/repositories/users.ts';
import type { EvidenceHold } from '../contracts/api.ts';
import { notFound } from './errors.ts';

export interface HoldActor {
  id: string;
  role: string;
  clientIp?: string;
}

export interface EvidenceHoldDeps {
  privacy: Pick<PrivacyRepository, 'setHold' | 'hold' | 'holds'>;
  users: Pick<UserRepository, 'usernames'>;
  audit: AuditRepository;
  now?: () => Date;
}

export function createEvidenceHoldService(deps: EvidenceHoldDeps) {
  const now = deps.now ?? (() => new Date());

  async function named(rows: EvidenceHoldRow[]): Promise<EvidenceHold[]> {
    const names = await deps.users.usernames(rows.flatMap((r) => (r.heldBy ? [r.heldBy] : [])));
    return rows.map((r) => ({ ...r, heldAt: r.heldAt.toISOString(), heldByName: r.heldBy ? (names.get(r.heldBy) ?? null) : null }));
  }

  const record = (actor: HoldActor, action: string, alertId: string, details: Record<string, unknown>) =>
    deps.audit.record({
      actorType: 'USER',
      actorId: actor.id,
      actorRole: actor.role,
      action,
      subjectType: 'Alert',
      subjectId: alertId,
      details: { ...details, ...(actor.clientIp ? { clientIp: actor.clientIp } : {}) },
    });

  return {
    /** Every hold, oldest first: what is kept past retention, and why. */
    async list(): Promise<EvidenceHold[]> {
      return named(await deps.privacy.holds());
    },

    /** Holds an alert's evidence (again: the new reason replaces the old, both audited). */
    async hold(alertId: string, reason: string, actor: HoldActor): Promise<EvidenceHold> {
      const before = await deps.privacy.hold(alertId);
      if (!(await deps.privacy.setHold(alertId, { at: now(), by: actor.id, reason: reason.trim() }))) throw notFound(`alert ${alertId}`, 'alert-not-found');
      await record(actor, 'evidence.hold', alertId, { reason: reason.trim(), ...(before ? { replacedReason: before.reason } : {}) });
      const [view] = await named([(await deps.privacy.hold(alertId))!]);
      return view!;
    },

    /** Releases a hold: the evidence is retention's again (deleted at its next run when old enough). */
    async release(alertId: string, actor: HoldActor): Promise<void> {
      const before = await deps.privacy.hold(alertId);
      if (!before) throw notFound(`evidence hold on alert ${alertId}`, 'hold-not-found');
      await deps.privacy.setHold(alertId, null);
      await record(actor, 'evidence.release', alertId, { reason: before.reason, heldAt: before.heldAt.toISOString(), heldBy: before.heldBy });
    },
  };
}

export type EvidenceHoldService = ReturnType<typeof createEvidenceHoldService>;
