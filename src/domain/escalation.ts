/**
 * Escalation rules (pure): an alert left NEW (nobody dispatched it) or
 * DISPATCHED (the unit did not acknowledge) for too long is escalated — its
 * level goes up by one and it is announced again — and then watched again for
 * the next level, until it is handled or the level cap is reached.
 *
 * The timers themselves are BullMQ delayed jobs (src/queue/handlers/escalation.ts):
 * a job is planned from the alert's state, and when it fires the alert is read
 * again and decide() says whether it still applies. Because that check is made
 * at fire time, jobs never need to be cancelled.
 */
import type { AlertStatus } from './lifecycle.ts';

/** The statuses that have a deadline. */
export type WatchedStatus = 'NEW' | 'DISPATCHED';

export interface EscalationPolicy {
  /** A NEW alert not dispatched within this many seconds is escalated. */
  dispatchSeconds: number;
  /** A DISPATCHED alert not acknowledged within this many seconds is escalated. */
  ackSeconds: number;
  /** No escalation beyond this level (0 disables escalation). */
  maxLevel: number;
}

/** The alert fields the rules look at. */
export interface EscalationView {
  id: string;
  status: AlertStatus;
  escalationLevel: number;
  createdAt: Date;
  dispatchedAt: Date | null;
  escalatedAt: Date | null;
}

/** One scheduled check: "at dueAt, if the alert is still expectStatus at level, escalate it". */
export interface EscalationPlan {
  alertId: string;
  expectStatus: WatchedStatus;
  level: number;
  /** The moment the deadline runs from (entering the status, or the last escalation). */
  since: Date;
  dueAt: Date;
}

export type EscalationReason = 'not_dispatched' | 'not_acknowledged';

export type EscalationDecision =
  | { kind: 'escalate'; level: number; reason: EscalationReason; overdueSeconds: number; waitedSeconds: number }
  /** A previous attempt of this same job escalated but may have crashed before announcing it. */
  | { kind: 'announce'; level: number }
  /** The deadline moved (e.g. the alert was reassigned): check again later. */
  | { kind: 'reschedule'; plan: EscalationPlan }
  | { kind: 'skip'; reason: 'not_found' | 'status_changed' | 'already_escalated' | 'level_cap' };

/** Jobs may fire a little before the deadline measured on another host's clock. */
export const CLOCK_TOLERANCE_MS = 2000;

export class EscalationPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EscalationPolicyError';
  }
}

export function validatePolicy(policy: EscalationPolicy): EscalationPolicy {
  for (const key of ['dispatchSeconds', 'ackSeconds'] as const) {
    if (!Number.isFinite(policy[key]) || policy[key] <= 0) throw new EscalationPolicyError(`${key} must be a positive number, got ${policy[key]}`);
  }
  if (!Number.isInteger(policy.maxLevel) || policy.maxLevel < 0) {
    throw new EscalationPolicyError(`maxLevel must be a non-negative integer, got ${policy.maxLevel}`);
  }
  return policy;
}

export function isWatched(status: AlertStatus): status is WatchedStatus {
  return status === 'NEW' || status === 'DISPATCHED';
}

function limitSeconds(status: WatchedStatus, policy: EscalationPolicy): number {
  return status === 'NEW' ? policy.dispatchSeconds : policy.ackSeconds;
}

/**
 * The next escalation check for the alert as it is now, or null when none
 * applies (closed or progressing status, or the level cap reached). The deadline
 * runs from entering the status, or from the last escalation if that is later,
 * so levels repeat one interval apart.
 */
export function planEscalation(alert: EscalationView, policy: EscalationPolicy): EscalationPlan | null {
  if (!isWatched(alert.status)) return null;
  if (alert.escalationLevel >= policy.maxLevel) return null;
  const entered = enteredStatusAt(alert);
  const since = alert.escalatedAt && alert.escalatedAt > entered ? alert.escalatedAt : entered;
  return {
    alertId: alert.id,
    expectStatus: alert.status,
    level: alert.escalationLevel,
    since,
    dueAt: new Date(since.getTime() + limitSeconds(alert.status, policy) * 1000),
  };
}

/** When the alert entered its watched status: raised (NEW) or its latest dispatch (DISPATCHED). */
function enteredStatusAt(alert: EscalationView): Date {
  return alert.status === 'NEW' ? alert.createdAt : (alert.dispatchedAt ?? alert.createdAt);
}

/** The check a fired job carries. */
export interface EscalationCheck {
  expectStatus: WatchedStatus;
  level: number;
}

/**
 * What to do when a job fires: the alert is re-read, and the job only escalates
 * if the alert is still in the status and at the level the job was planned for
 * and its deadline (recomputed from the alert) has passed.
 */
export function decideEscalation(
  alert: EscalationView | null,
  check: EscalationCheck,
  policy: EscalationPolicy,
  now: Date,
  opts: { retry?: boolean } = {},
): EscalationDecision {
  if (!alert) return { kind: 'skip', reason: 'not_found' };
  if (alert.status !== check.expectStatus) return { kind: 'skip', reason: 'status_changed' };
  if (alert.escalationLevel !== check.level) {
    // Our own earlier attempt may have committed the escalation and died before announcing it.
    if (opts.retry && alert.escalationLevel === check.level + 1) return { kind: 'announce', level: alert.escalationLevel };
    return { kind: 'skip', reason: 'already_escalated' };
  }
  const plan = planEscalation(alert, policy);
  if (!plan) return { kind: 'skip', reason: 'level_cap' };
  const overdueMs = now.getTime() - plan.dueAt.getTime();
  if (overdueMs < -CLOCK_TOLERANCE_MS) return { kind: 'reschedule', plan };
  return {
    kind: 'escalate',
    level: check.level + 1,
    reason: check.expectStatus === 'NEW' ? 'not_dispatched' : 'not_acknowledged',
    overdueSeconds: Math.max(0, Math.round(overdueMs / 1000)),
    waitedSeconds: Math.max(0, Math.round((now.getTime() - enteredStatusAt(alert).getTime()) / 1000)),
  };
}

/**
 * Deterministic job id of a plan: re-planning the same state (a retried job, a
 * re-announced alert) yields the same id, which BullMQ de-duplicates. BullMQ
 * ids may not contain ":", hence the dots.
 */
export function escalationJobId(plan: Pick<EscalationPlan, 'alertId' | 'expectStatus' | 'level' | 'since'>): string {
  return `escalate.${plan.alertId}.${plan.expectStatus}.${plan.level}.${plan.since.getTime()}`;
}

/**
 * A human line for the audit trail / timeline: how long the alert has waited (each level repeats the
 * deadline, so "within 60 s" at level 4 said nothing of the four minutes that went by), and the limit.
 */
export function escalationNote(reason: EscalationReason, level: number, waitedSeconds: number, policy: EscalationPolicy): string {
  const waited = waitedSeconds < 120 ? `${waitedSeconds} s` : `${Math.floor(waitedSeconds / 60)} min`;
  return reason === 'not_dispatched'
    ? `Escalated to level ${level}: not dispatched ${waited} after it was raised (limit ${policy.dispatchSeconds} s)`
    : `Escalated to level ${level}: not acknowledged ${waited} after dispatch (limit ${policy.ackSeconds} s)`;
}
