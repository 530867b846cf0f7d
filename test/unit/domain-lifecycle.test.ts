import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  availableActions,
  isOpen,
  LifecycleError,
  transition,
  type Actor,
  type AlertAction,
  type AlertState,
} from '../../src/domain/lifecycle.ts';

const now = new Date('2026-01-01T12:00:00Z');
const dispatcher: Actor = { userId: 'd1', role: 'DISPATCHER', unitId: null };
const admin: Actor = { userId: 'a1', role: 'ADMIN', unitId: null };
const officerA: Actor = { userId: 'o1', role: 'OFFICER', unitId: 'unit-a' };
const officerB: Actor = { userId: 'o2', role: 'OFFICER', unitId: 'unit-b' };

function apply(state: AlertState, action: AlertAction, actor: Actor): AlertState {
  const r = transition(state, action, actor, now);
  if (!r.ok) throw r.error;
  return { status: r.changes.status, assignedUnitId: r.changes.assignedUnitId };
}

function errorOf(state: AlertState, action: AlertAction, actor: Actor): LifecycleError {
  const r = transition(state, action, actor, now);
  assert.equal(r.ok, false, `expected ${action.type} from ${state.status} by ${actor.role} to fail`);
  return (r as { ok: false; error: LifecycleError }).error;
}

describe('alert lifecycle', () => {
  it('walks the happy path NEW → … → RESOLVED with the right timestamps', () => {
    let s: AlertState = { status: 'NEW', assignedUnitId: null };
    const d = transition(s, { type: 'dispatch', unitId: 'unit-a' }, dispatcher, now);
    assert.ok(d.ok);
    assert.deepEqual(d.changes, { status: 'DISPATCHED', assignedUnitId: 'unit-a', dispatchedAt: now });
    s = apply(s, { type: 'dispatch', unitId: 'unit-a' }, dispatcher);
    s = apply(s, { type: 'acknowledge' }, officerA);
    assert.equal(s.status, 'ACKNOWLEDGED');
    s = apply(s, { type: 'en_route' }, officerA);
    s = apply(s, { type: 'on_scene' }, officerA);
    const r = transition(s, { type: 'resolve', note: '  talked to the person  ' }, officerA, now);
    assert.ok(r.ok);
    assert.equal(r.to, 'RESOLVED');
    assert.equal(r.changes.resolutionNote, 'talked to the person');
    assert.equal(r.changes.resolvedAt, now);
    assert.equal(r.changes.resolutionOutcome, null, 'resolved without an outcome');
    const withOutcome = transition(s, { type: 'resolve', note: 'warned', outcome: 'WARNED' }, officerA, now);
    assert.ok(withOutcome.ok);
    assert.equal(withOutcome.changes.resolutionOutcome, 'WARNED');
    assert.equal(isOpen('RESOLVED'), false);
  });

  it('lets dispatchers and admins reassign an open, not yet on-scene alert, resetting the acknowledgement', () => {
    for (const status of ['DISPATCHED', 'ACKNOWLEDGED', 'EN_ROUTE'] as const) {
      const r = transition({ status, assignedUnitId: 'unit-a' }, { type: 'dispatch', unitId: 'unit-b' }, admin, now);
      assert.ok(r.ok, status);
      assert.deepEqual(r.changes, {
        status: 'DISPATCHED',
        assignedUnitId: 'unit-b',
        dispatchedAt: now,
        acknowledgedAt: null,
        enRouteAt: null,
      });
    }
    assert.equal(
      errorOf({ status: 'ON_SCENE', assignedUnitId: 'unit-a' }, { type: 'dispatch', unitId: 'unit-b' }, dispatcher).code,
      'ILLEGAL_TRANSITION',
    );
    assert.equal(
      errorOf({ status: 'DISPATCHED', assignedUnitId: 'unit-a' }, { type: 'dispatch', unitId: 'unit-a' }, dispatcher).code,
      'ILLEGAL_TRANSITION',
    );
  });

  it('names an officer step in words and says which status it needs', () => {
    const e = errorOf({ status: 'ACKNOWLEDGED', assignedUnitId: 'unit-a' }, { type: 'on_scene' }, officerA);
    assert.equal(e.code, 'ILLEGAL_TRANSITION');
    assert.equal(e.message, 'cannot mark on scene an alert that is ACKNOWLEDGED (it must be EN_ROUTE)');
    assert.equal(errorOf({ status: 'DISPATCHED', assignedUnitId: 'unit-a' }, { type: 'en_route' }, dispatcher).message, 'only an officer of the assigned unit may mark en route');
  });

  it('dismisses any open alert with a reason, never a closed one', () => {
    for (const status of ['NEW', 'DISPATCHED', 'ACKNOWLEDGED', 'EN_ROUTE', 'ON_SCENE'] as const) {
      const r = transition({ status, assignedUnitId: null }, { type: 'dismiss', reason: 'false positive' }, dispatcher, now);
      assert.ok(r.ok, status);
      assert.equal(r.changes.status, 'DISMISSED');
      assert.equal(r.changes.dismissReason, 'false positive');
    }
    for (const status of ['RESOLVED', 'DISMISSED'] as const) {
      assert.equal(errorOf({ status, assignedUnitId: null }, { type: 'dismiss', reason: 'dup' }, dispatcher).code, 'ILLEGAL_TRANSITION');
    }
    assert.equal(errorOf({ status: 'NEW', assignedUnitId: null }, { type: 'dismiss', reason: '  ' }, dispatcher).code, 'INVALID_INPUT');
  });

  it('rejects skipped or repeated steps as illegal transitions (the API answers 409)', () => {
    const dispatched: AlertState = { status: 'DISPATCHED', assignedUnitId: 'unit-a' };
    const e = errorOf(dispatched, { type: 'on_scene' }, officerA);
    assert.ok(e instanceof LifecycleError);
    assert.equal(e.code, 'ILLEGAL_TRANSITION');
    assert.equal(e.from, 'DISPATCHED');
    assert.equal(e.action, 'on_scene');
    assert.equal(errorOf({ status: 'NEW', assignedUnitId: null }, { type: 'acknowledge' }, officerA).code, 'ILLEGAL_TRANSITION');
    assert.equal(errorOf({ status: 'RESOLVED', assignedUnitId: 'unit-a' }, { type: 'dispatch', unitId: 'u' }, dispatcher).code, 'ILLEGAL_TRANSITION');
  });

  it('enforces roles: officers of the assigned unit only, dispatchers only for command actions', () => {
    const dispatched: AlertState = { status: 'DISPATCHED', assignedUnitId: 'unit-a' };
    assert.equal(errorOf(dispatched, { type: 'acknowledge' }, officerB).code, 'FORBIDDEN');
    assert.equal(errorOf(dispatched, { type: 'acknowledge' }, dispatcher).code, 'FORBIDDEN');
    assert.equal(errorOf({ status: 'NEW', assignedUnitId: null }, { type: 'dispatch', unitId: 'unit-a' }, officerA).code, 'FORBIDDEN');
    assert.equal(errorOf(dispatched, { type: 'dismiss', reason: 'x' }, officerA).code, 'FORBIDDEN');
    const noUnit: Actor = { userId: 'o3', role: 'OFFICER', unitId: null };
    assert.equal(errorOf(dispatched, { type: 'acknowledge' }, noUnit).code, 'FORBIDDEN');
  });

  it('requires a note to resolve and a unit to dispatch', () => {
    assert.equal(errorOf({ status: 'ON_SCENE', assignedUnitId: 'unit-a' }, { type: 'resolve', note: '' }, officerA).code, 'INVALID_INPUT');
    assert.equal(errorOf({ status: 'NEW', assignedUnitId: null }, { type: 'dispatch', unitId: ' ' }, dispatcher).code, 'INVALID_INPUT');
    assert.equal(
      errorOf({ status: 'NEW', assignedUnitId: null }, { type: 'fly' } as unknown as AlertAction, dispatcher).code,
      'INVALID_INPUT',
    );
  });

  it('lists the actions available to an actor, consistent with transition()', () => {
    assert.deepEqual(availableActions({ status: 'NEW', assignedUnitId: null }, dispatcher), ['dispatch', 'dismiss']);
    assert.deepEqual(availableActions({ status: 'DISPATCHED', assignedUnitId: 'unit-a' }, officerA), ['acknowledge']);
    assert.deepEqual(availableActions({ status: 'DISPATCHED', assignedUnitId: 'unit-a' }, officerB), []);
    assert.deepEqual(availableActions({ status: 'ON_SCENE', assignedUnitId: 'unit-a' }, officerA), ['resolve']);
    assert.deepEqual(availableActions({ status: 'RESOLVED', assignedUnitId: 'unit-a' }, admin), []);
  });
});
