/**
 * Which buttons a user sees enabled: the same pure rules the API enforces
 * (src/domain/lifecycle.ts), bundled into the dashboard so they cannot drift.
 */
import { availableActions, type AlertActionType } from '../domain/lifecycle.ts';
import type { AlertEvent } from '../realtime/events.ts';
import type { AlertAction, CurrentUser } from './api.ts';
import type { AlertStatus } from '../contracts/vocabulary.ts';

export function allowedActions(alert: Pick<AlertEvent, 'status' | 'assignedUnitId'>, user: CurrentUser): Set<AlertActionType> {
  return new Set(availableActions(alert, { userId: user.id, role: user.role, unitId: user.unitId }));
}

export interface OfficerStep {
  action: Extract<AlertActionType, 'acknowledge' | 'en_route' | 'on_scene' | 'resolve'>;
  path: AlertAction;
  label: string;
  /** The status the step leads to. */
  status: AlertStatus;
}

/** The officer's buttons, in response order. */
export const OFFICER_STEPS: readonly OfficerStep[] = [
  { action: 'acknowledge', path: 'acknowledge', label: 'Acknowledge', status: 'ACKNOWLEDGED' },
  { action: 'en_route', path: 'en-route', label: 'En route', status: 'EN_ROUTE' },
  { action: 'on_scene', path: 'on-scene', label: 'On scene', status: 'ON_SCENE' },
  { action: 'resolve', path: 'resolve', label: 'Resolve', status: 'RESOLVED' },
];

export const stepOf = (action: OfficerStep['action']): OfficerStep => OFFICER_STEPS.find((s) => s.action === action)!;
