/**
 * Alert lifecycle (pure): which transitions exist and who may make them.
 *
 *   NEW → DISPATCHED → ACKNOWLEDGED → EN_ROUTE → ON_SCENE → RESOLVED
 *   any open state → DISMISSED (with a reason)
 *   DISPATCHED | ACKNOWLEDGED | EN_ROUTE → DISPATCHED (reassign to another unit)
 *
 * Dispatchers and admins dispatch, reassign and dismiss; only an officer of the
 * assigned unit moves the alert along its response. Errors are returned, not
 * thrown, so the API maps them to 409 / 403 / 400 without try/catch.
 */

import { ALERT_STATUSES, OPEN_ALERT_STATUSES, RESOLUTION_OUTCOMES, type AlertStatus, type ResolutionOutcome, type Role } from '../contracts/vocabulary.ts';

export { ALERT_STATUSES, type AlertStatus, type Role };

export type AlertAction =
  | { type: 'dispatch'; unitId: string }
  | { type: 'acknowledge' }
  | { type: 'en_route' }
  | { type: 'on_scene' }
  | { type: 'resolve'; note: string; outcome?: ResolutionOutcome }
  | { type: 'dismiss'; reason: string };

export type AlertActionType = AlertAction['type'];

/** A stored outcome (a text column, an audit detail) as the vocabulary's value; null for none or anything else. */
export function resolutionOutcomeOf(value: unknown): ResolutionOutcome | null {
  return RESOLUTION_OUTCOMES.find((o) => o === value) ?? null;
}

export interface Actor {
  userId: string;
  role: Role;
  /** The officer's unit; null for users without one. */
  unitId: string | null;
}

export interface AlertState {
  status: AlertStatus;
  assignedUnitId: string | null;
}

/** Fields the caller writes to the alert, beside status. */
export interface TransitionChanges {
  status: AlertStatus;
  assignedUnitId: string | null;
  dispatchedAt?: Date;
  acknowledgedAt?: Date | null;
  enRouteAt?: Date | null;
  onSceneAt?: Date;
  resolvedAt?: Date;
  resolutionNote?: string;
  resolutionOutcome?: ResolutionOutcome | null;
  dismissedAt?: Date;
  dismissReason?: string;
}

export type LifecycleErrorCode =
  /** Not possible from the current status (HTTP 409). */
  | 'ILLEGAL_TRANSITION'
  /** Possible, but not for this actor (HTTP 403). */
  | 'FORBIDDEN'
  /** Missing unit id, note or reason (HTTP 400). */
  | 'INVALID_INPUT';

export class LifecycleError extends Error {
  constructor(
    readonly code: LifecycleErrorCode,
    message: string,
    readonly from: AlertStatus,
    readonly action: AlertActionType,
  ) {
    super(message);
    this.name = 'LifecycleError';
  }
}

export type TransitionResult =
  | { ok: true; from: AlertStatus; to: AlertStatus; changes: TransitionChanges }
  | { ok: false; error: LifecycleError };

const OPEN: ReadonlySet<AlertStatus> = new Set(OPEN_ALERT_STATUSES);
const REASSIGNABLE: ReadonlySet<AlertStatus> = new Set(['DISPATCHED', 'ACKNOWLEDGED', 'EN_ROUTE']);

/** Each officer step, the status it needs and leads to, and how error messages name it. */
const OFFICER_STEPS = {
  acknowledge: { from: 'DISPATCHED', to: 'ACKNOWLEDGED', verb: 'acknowledge' },
  en_route: { from: 'ACKNOWLEDGED', to: 'EN_ROUTE', verb: 'mark en route' },
  on_scene: { from: 'EN_ROUTE', to: 'ON_SCENE', verb: 'mark on scene' },
  resolve: { from: 'ON_SCENE', to: 'RESOLVED', verb: 'resolve' },
} as const satisfies Record<string, { from: AlertStatus; to: AlertStatus; verb: string }>;

export function isOpen(status: AlertStatus): boolean {
  return OPEN.has(status);
}

function isCommand(role: Role): boolean {
  return role === 'DISPATCHER' || role === 'ADMIN';
}

export function transition(state: AlertState, action: AlertAction, actor: Actor, at: Date): TransitionResult {
  const from = state.status;
  const fail = (code: LifecycleErrorCode, message: string): TransitionResult => ({
    ok: false,
    error: new LifecycleError(code, message, from, action.type),
  });
  const done = (changes: TransitionChanges): TransitionResult => ({ ok: true, from, to: changes.status, changes });

  switch (action.type) {
    case 'dispatch': {
      if (!isCommand(actor.role)) return fail('FORBIDDEN', `${actor.role} may not dispatch alerts`);
      if (typeof action.unitId !== 'string' || action.unitId.trim() === '') {
        return fail('INVALID_INPUT', 'a unit id is required to dispatch');
      }
      if (from === 'NEW') {
        return done({ status: 'DISPATCHED', assignedUnitId: action.unitId, dispatchedAt: at });
      }
      if (!REASSIGNABLE.has(from)) return fail('ILLEGAL_TRANSITION', `cannot dispatch an alert that is ${from}`);
      if (action.unitId === state.assignedUnitId) {
        return fail('ILLEGAL_TRANSITION', 'the alert is already assigned to this unit');
      }
      // Reassignment: the new unit has to acknowledge again.
      return done({
        status: 'DISPATCHED',
        assignedUnitId: action.unitId,
        dispatchedAt: at,
        acknowledgedAt: null,
        enRouteAt: null,
      });
    }
    case 'dismiss': {
      if (!isCommand(actor.role)) return fail('FORBIDDEN', `${actor.role} may not dismiss alerts`);
      if (typeof action.reason !== 'string' || action.reason.trim() === '') {
        return fail('INVALID_INPUT', 'a reason is required to dismiss');
      }
      if (!OPEN.has(from)) return fail('ILLEGAL_TRANSITION', `cannot dismiss an alert that is ${from}`);
      return done({
        status: 'DISMISSED',
        assignedUnitId: state.assignedUnitId,
        dismissedAt: at,
        dismissReason: action.reason.trim(),
      });
    }
    case 'acknowledge':
    case 'en_route':
    case 'on_scene':
    case 'resolve': {
      const step = OFFICER_STEPS[action.type];
      if (actor.role !== 'OFFICER') return fail('FORBIDDEN', `only an officer of the assigned unit may ${step.verb}`);
      if (from !== step.from) return fail('ILLEGAL_TRANSITION', `cannot ${step.verb} an alert that is ${from} (it must be ${step.from})`);
      if (!actor.unitId || actor.unitId !== state.assignedUnitId) {
        return fail('FORBIDDEN', 'the alert is assigned to another unit');
      }
      const base = { status: step.to, assignedUnitId: state.assignedUnitId } as const;
      if (action.type === 'acknowledge') return done({ ...base, acknowledgedAt: at });
      if (action.type === 'en_route') return done({ ...base, enRouteAt: at });
      if (action.type === 'on_scene') return done({ ...base, onSceneAt: at });
      if (typeof action.note !== 'string' || action.note.trim() === '') {
        return fail('INVALID_INPUT', 'a note is required to resolve');
      }
      return done({ ...base, resolvedAt: at, resolutionNote: action.note.trim(), resolutionOutcome: action.outcome ?? null });
    }
    default: {
      const unknown = (action as { type?: unknown }).type;
      return {
        ok: false,
        error: new LifecycleError('INVALID_INPUT', `unknown action "${String(unknown)}"`, from, unknown as AlertActionType),
      };
    }
  }
}

/** Actions this actor may take now (for buttons); the same rules as transition(). */
export function availableActions(state: AlertState, actor: Actor): AlertActionType[] {
  const probes: AlertAction[] = [
    { type: 'dispatch', unitId: '\u0000another-unit' },
    { type: 'acknowledge' },
    { type: 'en_route' },
    { type: 'on_scene' },
    { type: 'resolve', note: 'probe' },
    { type: 'dismiss', reason: 'probe' },
  ];
  const epoch = new Date(0);
  return probes.filter((a) => transition(state, a, actor, epoch).ok).map((a) => a.type);
}
