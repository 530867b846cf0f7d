/**
 * The second factor of a login: a TOTP code from the user's authenticator
 * app. Holds the policy (which roles must enrol), the sealing of the shared
 * secrets, and the one-use check of codes. Enrolment itself is a use case
 * (src/services/two-factor.ts).
 */
import type { UserRepository } from '../db/repositories/users.ts';
import type { Role } from '../contracts/vocabulary.ts';
import type { SecretBox } from './secret-box.ts';
import { matchTotp } from './totp.ts';

export interface SecondFactorDeps {
  users: Pick<UserRepository, 'consumeTotpStep'>;
  /** Loaded on first use: processes that never see a code never create the key file. */
  box: () => Promise<SecretBox>;
  /** Roles that must enrol before using anything else (MASKWATCH_MFA_REQUIRED). */
  requiredRoles: readonly Role[];
  now?: () => Date;
}

export interface EnrolledUser {
  id: string;
  totpSecret: string | null;
  totpEnabledAt: Date | null;
}

export function createSecondFactor(deps: SecondFactorDeps) {
  const now = deps.now ?? (() => new Date());
  return {
    requiredRoles: deps.requiredRoles,

    enrolled(user: Pick<EnrolledUser, 'totpEnabledAt'>): boolean {
      return user.totpEnabledAt !== null;
    },

    /** Signed in, but must enrol before anything else. */
    setupRequired(role: Role, enrolled: boolean): boolean {
      return !enrolled && deps.requiredRoles.includes(role);
    },

    async seal(userId: string, secret: string): Promise<string> {
      return (await deps.box()).seal(secret, userId);
    },

    async open(userId: string, sealed: string): Promise<string> {
      return (await deps.box()).open(sealed, userId);
    },

    /** The time step of `code` for `secret` now, or null (no record is made). */
    match(secret: string, code: string): number | null {
      return matchTotp(secret, code, now());
    },

    /**
     * true when `code` is the enrolled user's current code and no earlier
     * request used it (or a later one): a code works once.
     */
    async verify(user: EnrolledUser, code: string): Promise<boolean> {
      if (!user.totpSecret || !user.totpEnabledAt) return false;
      const step = matchTotp(await this.open(user.id, user.totpSecret), code, now());
      return step !== null && (await deps.users.consumeTotpStep(user.id, step));
    },
  };
}

export type SecondFactor = ReturnType<typeof createSecondFactor>;
