/**
 * A viewer's scope (src/auth/roles.ts alertScopeOf) as Prisma conditions: the
 * one translation every query of alerts, violations and crops applies, so a
 * dispatcher restricted to zones or an officer to a unit sees the same set
 * everywhere.
 */
import type { AlertScope } from '../../auth/roles.ts';

/** Never the id of a unit: `assignedUnitId: null` in a scope matches nothing (an officer without a unit). */
const NO_UNIT = '\u0000none';

/** Conditions on an Alert row. */
export function alertScopeWhere(scope: AlertScope = {}): Record<string, unknown>[] {
  const and: Record<string, unknown>[] = [];
  if (scope.assignedUnitId !== undefined) and.push({ assignedUnitId: scope.assignedUnitId ?? NO_UNIT });
  if (scope.zones) and.push({ camera: { zone: { in: [...scope.zones] } } });
  return and;
}

/** Conditions on a Violation row: through its alert's unit and its camera's zone. */
export function violationScopeWhere(scope: AlertScope = {}): Record<string, unknown>[] {
  const and: Record<string, unknown>[] = [];
  if (scope.assignedUnitId !== undefined) and.push({ alert: { assignedUnitId: scope.assignedUnitId ?? NO_UNIT } });
  if (scope.zones) and.push({ camera: { zone: { in: [...scope.zones] } } });
  return and;
}
