import { ROLES, type Role } from '../contracts/vocabulary.ts';

export { ROLES, type Role };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** What an authenticated request or socket knows about its user. */
export interface AuthUser {
  id: string;
  username: string;
  role: Role;
  unitId: string | null;
  sessionId: string;
}

/** Whether a user may see an alert: dispatchers/admins see all, officers only their unit's. */
export function canSeeUnit(user: Pick<AuthUser, 'role' | 'unitId'>, assignedUnitId: string | null): boolean {
  if (user.role !== 'OFFICER') return true;
  return user.unitId !== null && assignedUnitId === user.unitId;
}
