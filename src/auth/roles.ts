import { ROLES, type Role, type SignInMethod } from '../contracts/vocabulary.ts';

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
  /** A dispatcher's zones: they see only alerts of cameras in these zones. Empty: every zone. */
  zones: readonly string[];
  sessionId: string;
  /** The first admin's environment-given password is still in use: only the password change is allowed. */
  mustChangePassword?: boolean;
  /** The account has a second factor (TOTP). */
  mfaEnabled?: boolean;
  /** Its role must enrol a second factor (MASKWATCH_MFA_REQUIRED) and it has none yet: only enrolment is allowed. */
  mfaSetupRequired?: boolean;
  /** Its role must sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED) and it has none yet: only adding one is allowed. */
  securityKeySetupRequired?: boolean;
  /** How the session was signed in. */
  signInMethod?: SignInMethod;
  /** Single sign-on: when the directory let the user in; the session never outlives MASKWATCH_SSO_SESSION_HOURS from it. */
  signedOnAt?: Date;
  /** When the session's token expires (sockets are disconnected then). */
  sessionExpiresAt?: Date;
}

/** Who is asking, as far as what they may see goes. */
export type Viewer = Pick<AuthUser, 'role' | 'unitId' | 'zones'>;

/**
 * The alerts a viewer may see, as a filter the repositories apply (undefined fields: no limit).
 * Officers: their unit's alerts (null: none). Dispatchers with zones: alerts of cameras in those
 * zones (a camera without a zone is in none of them). Admins and dispatchers without zones: all.
 */
export interface AlertScope {
  assignedUnitId?: string | null;
  zones?: readonly string[];
}

export function alertScopeOf(viewer: Viewer): AlertScope {
  if (viewer.role === 'OFFICER') return { assignedUnitId: viewer.unitId };
  if (viewer.role === 'DISPATCHER' && viewer.zones.length > 0) return { zones: viewer.zones };
  return {};
}

/** Whether a camera's zone is in the scope (a camera without a zone is in no zone). */
export function zoneInScope(scope: AlertScope, zone: string | null): boolean {
  return !scope.zones || (zone !== null && scope.zones.includes(zone));
}

/** Whether an alert (its unit, its camera's zone) is in the viewer's scope: the same rule as alertScopeOf's filter. */
export function maySeeAlert(viewer: Viewer, alert: { assignedUnitId: string | null; zone: string | null }): boolean {
  const scope = alertScopeOf(viewer);
  if (scope.assignedUnitId !== undefined && (scope.assignedUnitId === null || alert.assignedUnitId !== scope.assignedUnitId)) return false;
  return zoneInScope(scope, alert.zone);
}

/**
 * A user's zones as given (API, CLI): trimmed, blanks and repeats dropped. Only dispatchers have
 * zones; the message of the refusal otherwise, or null.
 */
export function normaliseZones(role: Role, zones: readonly string[]): { zones: string[]; problem: string | null } {
  const clean = [...new Set(zones.map((z) => z.trim()).filter((z) => z.length > 0))];
  if (clean.some((z) => z.length > 100)) return { zones: clean, problem: 'a zone name has at most 100 characters' };
  if (clean.length > 0 && role !== 'DISPATCHER') return { zones: clean, problem: 'only dispatchers are limited to zones' };
  return { zones: clean, problem: null };
}

/** Zones as `User.zones` stores them: a JSON array, or null for none (every zone). */
export function storedZones(zones: readonly string[]): string | null {
  return zones.length > 0 ? JSON.stringify(zones) : null;
}

/** A stored `User.zones` (a JSON array of names, or null) as a list; anything malformed is no zones. */
export function parseZones(stored: string | null | undefined): string[] {
  if (!stored) return [];
  try {
    const value: unknown = JSON.parse(stored);
    return Array.isArray(value) ? value.filter((z): z is string => typeof z === 'string' && z.length > 0) : [];
  } catch {
    return [];
  }
}
