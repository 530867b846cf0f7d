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

/** Whether a user may see an alert: dispatchers/admins see all, officers only their unit's. */
export function canSeeUnit(user: Pick<AuthUser, 'role' | 'unitId'>, assignedUnitId: string | null): boolean {
  if (user.role !== 'OFFICER') return true;
  return user.unitId !== null && assignedUnitId === user.unitId;
}
