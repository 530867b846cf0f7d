/**
 * Evidence holds: an admin keeps an alert's evidence past retention (a complaint, an inquiry, a court
 * request), says why, and releases it when the matter is closed; the retention run then deletes it as
 * usual (src/services/privacy.ts). Holding and releasing are audited with the reason: keeping faces
 * longer than the policy says is a decision someone answers for.
 *
 * Every hold has a review date (by default `reviewDays` ahead): past it, the hold is "review due" — listed
 * so, counted by a metric an alert rule watches — until an admin keeps it (holds it again, with a new date)
 * or releases it. Nothing is released by itself: a court's evidence must not vanish because a date passed.
 */
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { EvidenceHoldRow, PrivacyRepository } from '../db/repositories/privacy.ts';
import type { UserRepository } from '../db/repositories/users.ts';
import type { EvidenceHold, EvidenceHoldList } from '../contracts/api.ts';
import { notFound, ServiceError } from './errors.ts';

export interface HoldActor {
  id: string;
  role: string;
  clientIp?: string;
}

export interface EvidenceHoldDeps {
  privacy: Pick<PrivacyRepository, 'setHold' | 'hold' | 'holds' | 'holdCounts'>;
  users: Pick<UserRepository, 'usernames'>;
  audit: AuditRepository;
  /** Days to the review of a hold set without a date (MASKWATCH_EVIDENCE_HOLD_REVIEW_DAYS). */
  reviewDays: number;
  now?: () => Date;
}

/** The furthest a review may be set: a hold is looked at again at least this often. */
export const MAX_REVIEW_DAYS = 3 * 365;
const DAY_MS = 86_400_000;

export function createEvidenceHoldService(deps: EvidenceHoldDeps) {
  const now = deps.now ?? (() => new Date());

  async function named(rows: EvidenceHoldRow[]): Promise<EvidenceHold[]> {
    const names = await deps.users.usernames(rows.flatMap((r) => (r.heldBy ? [r.heldBy] : [])));
    const at = now();
    return rows.map((r) => ({
      ...r,
      heldAt: r.heldAt.toISOString(),
      heldByName: r.heldBy ? (names.get(r.heldBy) ?? null) : null,
      reviewAt: r.reviewAt?.toISOString() ?? null,
      reviewDue: !r.reviewAt || r.reviewAt <= at,
    }));
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
    /** Every hold, oldest first: what is kept past retention, why, and whether it is due for review. */
    async list(): Promise<EvidenceHoldList> {
      return { items: await named(await deps.privacy.holds()), reviewDays: deps.reviewDays };
    },

    /** How many holds are due for review now, and how many not (the metric). */
    reviewCounts(): Promise<{ due: number; notDue: number }> {
      return deps.privacy.holdCounts(now());
    },

    /**
     * Holds an alert's evidence until a review (`reviewAt`, default `reviewDays` ahead; in the future and within
     * MAX_REVIEW_DAYS). Holding it again is the review's "keep": the new reason and date replace the old, both audited.
     */
    async hold(alertId: string, input: { reason: string; reviewAt?: string }, actor: HoldActor): Promise<EvidenceHold> {
      const at = now();
      const reviewAt = input.reviewAt ? new Date(input.reviewAt) : new Date(at.getTime() + deps.reviewDays * DAY_MS);
      if (!(reviewAt > at) || reviewAt.getTime() - at.getTime() > MAX_REVIEW_DAYS * DAY_MS) {
        throw new ServiceError('INVALID', `reviewAt must be in the future and within ${MAX_REVIEW_DAYS} days`, 'validation');
      }
      const reason = input.reason.trim();
      const before = await deps.privacy.hold(alertId);
      // Kept at a review, a hold still dates from when it was first set; who answers for it is the reviewer.
      if (!(await deps.privacy.setHold(alertId, { at: before?.heldAt ?? at, by: actor.id, reason, reviewAt }))) throw notFound(`alert ${alertId}`, 'alert-not-found');
      await record(actor, 'evidence.hold', alertId, {
        reason,
        reviewAt: reviewAt.toISOString(),
        ...(before ? { replacedReason: before.reason, replacedReviewAt: before.reviewAt?.toISOString() ?? null } : {}),
      });
      const [view] = await named([(await deps.privacy.hold(alertId))!]);
      return view!;
    },

    /** Releases a hold: the evidence is retention's again (deleted at its next run when old enough). */
    async release(alertId: string, actor: HoldActor): Promise<void> {
      const before = await deps.privacy.hold(alertId);
      if (!before) throw notFound(`evidence hold on alert ${alertId}`, 'hold-not-found');
      await deps.privacy.setHold(alertId, null);
      await record(actor, 'evidence.release', alertId, {
        reason: before.reason,
        heldAt: before.heldAt.toISOString(),
        heldBy: before.heldBy,
        reviewAt: before.reviewAt?.toISOString() ?? null,
      });
    },
  };
}

export type EvidenceHoldService = ReturnType<typeof createEvidenceHoldService>;
