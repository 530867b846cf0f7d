import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CLOCK_TOLERANCE_MS,
  decideEscalation,
  EscalationPolicyError,
  escalationJobId,
  escalationNote,
  isWatched,
  planEscalation,
  validatePolicy,
  type EscalationPolicy,
  type EscalationView,
} from '../../src/domain/escalation.ts';

const policy: EscalationPolicy = { dispatchSeconds: 120, ackSeconds: 180, maxLevel: 3 };
const t0 = new Date('2026-01-01T12:00:00.000Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

function alert(over: Partial<EscalationView> = {}): EscalationView {
  return { id: 'a1', status: 'NEW', escalationLevel: 0, createdAt: t0, dispatchedAt: null, escalatedAt: null, ...over };
}

describe('planEscalation', () => {
  it('a new alert is due dispatchSeconds after it was created', () => {
    assert.deepEqual(planEscalation(alert(), policy), { alertId: 'a1', expectStatus: 'NEW', level: 0, since: t0, dueAt: at(120) });
  });

  it('a dispatched alert is due ackSeconds after dispatch, even if it was escalated while new', () => {
    const plan = planEscalation(alert({ status: 'DISPATCHED', escalationLevel: 1, escalatedAt: at(120), dispatchedAt: at(150) }), policy);
    assert.deepEqual(plan, { alertId: 'a1', expectStatus: 'DISPATCHED', level: 1, since: at(150), dueAt: at(330) });
  });

  it('after an escalation the next level is one interval after it', () => {
    const plan = planEscalation(alert({ escalationLevel: 1, escalatedAt: at(121) }), policy);
    assert.equal(plan?.level, 1);
    assert.deepEqual(plan?.dueAt, at(241));
  });

  it('a reassigned alert (dispatched again later) runs from the new dispatch', () => {
    const plan = planEscalation(alert({ status: 'DISPATCHED', dispatchedAt: at(400) }), policy);
    assert.deepEqual(plan?.dueAt, at(580));
  });

  it('no plan for statuses in progress or closed, or at the level cap', () => {
    for (const status of ['ACKNOWLEDGED', 'EN_ROUTE', 'ON_SCENE', 'RESOLVED', 'DISMISSED'] as const) {
      assert.equal(planEscalation(alert({ status, dispatchedAt: t0 }), policy), null, status);
      assert.equal(isWatched(status), false);
    }
    assert.equal(planEscalation(alert({ escalationLevel: 3 }), policy), null);
    assert.equal(planEscalation(alert(), { ...policy, maxLevel: 0 }), null, 'maxLevel 0 turns escalation off');
  });
});

describe('decideEscalation (when the job fires)', () => {
  const check = { expectStatus: 'NEW', level: 0 } as const;

  it('escalates a still-new alert past its deadline to the next level', () => {
    assert.deepEqual(decideEscalation(alert(), check, policy, at(125)), {
      kind: 'escalate',
      level: 1,
      reason: 'not_dispatched',
      overdueSeconds: 5,
      waitedSeconds: 125,
    });
  });

  it('escalates a dispatched alert nobody acknowledged', () => {
    const d = decideEscalation(alert({ status: 'DISPATCHED', dispatchedAt: at(10) }), { expectStatus: 'DISPATCHED', level: 0 }, policy, at(190));
    // Waited since the dispatch (at +10 s), not since the alert was raised.
    assert.deepEqual(d, { kind: 'escalate', level: 1, reason: 'not_acknowledged', overdueSeconds: 0, waitedSeconds: 180 });
  });

  it('does nothing once the alert moved on: dispatched, acknowledged, closed, deleted', () => {
    assert.deepEqual(decideEscalation(alert({ status: 'DISPATCHED', dispatchedAt: at(30) }), check, policy, at(120)), { kind: 'skip', reason: 'status_changed' });
    assert.deepEqual(
      decideEscalation(alert({ status: 'ACKNOWLEDGED', dispatchedAt: at(30) }), { expectStatus: 'DISPATCHED', level: 0 }, policy, at(300)),
      { kind: 'skip', reason: 'status_changed' },
    );
    assert.deepEqual(decideEscalation(alert({ status: 'DISMISSED' }), check, policy, at(500)), { kind: 'skip', reason: 'status_changed' });
    assert.deepEqual(decideEscalation(null, check, policy, at(500)), { kind: 'skip', reason: 'not_found' });
  });

  it('a duplicate job for a level already reached does nothing; a retry of the job that reached it re-announces', () => {
    const escalated = alert({ escalationLevel: 1, escalatedAt: at(120) });
    assert.deepEqual(decideEscalation(escalated, check, policy, at(121)), { kind: 'skip', reason: 'already_escalated' });
    assert.deepEqual(decideEscalation(escalated, check, policy, at(121), { retry: true }), { kind: 'announce', level: 1 });
    assert.deepEqual(decideEscalation(alert({ escalationLevel: 2 }), check, policy, at(500), { retry: true }), { kind: 'skip', reason: 'already_escalated' });
  });

  it('reschedules when the deadline moved later (reassigned), tolerating small clock skew', () => {
    const reassigned = alert({ status: 'DISPATCHED', dispatchedAt: at(100) });
    const d = decideEscalation(reassigned, { expectStatus: 'DISPATCHED', level: 0 }, policy, at(190));
    assert.equal(d.kind, 'reschedule');
    assert.deepEqual(d.kind === 'reschedule' && d.plan.dueAt, at(280));
    const early = new Date(at(120).getTime() - CLOCK_TOLERANCE_MS + 1);
    assert.equal(decideEscalation(alert(), check, policy, early).kind, 'escalate');
  });

  it('stops at the level cap', () => {
    const capped = alert({ escalationLevel: 3, escalatedAt: at(360) });
    assert.deepEqual(decideEscalation(capped, { expectStatus: 'NEW', level: 3 }, policy, at(1000)), { kind: 'skip', reason: 'level_cap' });
  });
});

describe('job ids, notes and policy validation', () => {
  it('job ids are deterministic per alert, status, level and deadline start, and contain no ":"', () => {
    const plan = planEscalation(alert(), policy)!;
    assert.equal(escalationJobId(plan), escalationJobId({ ...planEscalation(alert(), policy)! }));
    assert.equal(escalationJobId(plan), `escalate.a1.NEW.0.${t0.getTime()}`);
    assert.notEqual(escalationJobId(plan), escalationJobId(planEscalation(alert({ escalationLevel: 1, escalatedAt: at(120) }), policy)!));
    assert.notEqual(
      escalationJobId(planEscalation(alert({ status: 'DISPATCHED', dispatchedAt: at(10) }), policy)!),
      escalationJobId(planEscalation(alert({ status: 'DISPATCHED', dispatchedAt: at(20) }), policy)!),
    );
    assert.ok(!escalationJobId(plan).includes(':'));
  });

  it('notes say why, and how long the alert has waited', () => {
    assert.equal(escalationNote('not_dispatched', 1, 121, policy), 'Escalated to level 1: not dispatched 2 min after it was raised (limit 120 s)');
    assert.equal(escalationNote('not_dispatched', 1, 61, { ...policy, dispatchSeconds: 60 }), 'Escalated to level 1: not dispatched 61 s after it was raised (limit 60 s)');
    assert.equal(escalationNote('not_acknowledged', 2, 365, policy), 'Escalated to level 2: not acknowledged 6 min after dispatch (limit 180 s)');
  });

  it('rejects a nonsensical policy with a clear error', () => {
    assert.throws(() => validatePolicy({ ...policy, dispatchSeconds: 0 }), (e: unknown) => e instanceof EscalationPolicyError && /dispatchSeconds/.test(e.message));
    assert.throws(() => validatePolicy({ ...policy, ackSeconds: Number.NaN }), /ackSeconds/);
    assert.throws(() => validatePolicy({ ...policy, maxLevel: 1.5 }), /maxLevel/);
    assert.deepEqual(validatePolicy(policy), policy);
  });
});
