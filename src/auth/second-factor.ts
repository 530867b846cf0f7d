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
import { normalizeRecoveryCode, recoveryCodeHash } from './recovery-codes.ts';

export interface SecondFactorDeps {
  users: Pick<UserRepository, 'consumeTotpStep' | 'useRecoveryCode'>;
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
     * Which second factor `code` is for the enrolled user, or null: the app's
     * current code, used by no earlier request (nor a later step), or one of
     * their unused recovery codes. Either works once.
     */
    async verify(user: EnrolledUser, code: string): Promise<'totp' | 'recovery-code' | null> {
      if (!user.totpSecret || !user.totpEnabledAt) return null;
      const recovery = /^\d{6}$/.test(code) ? null : normalizeRecoveryCode(code);
      if (recovery) return (await deps.users.useRecoveryCode(user.id, recoveryCodeHash(user.id, recovery), now())) ? 'recovery-code' : null;
      const step = matchTotp(await this.open(user.id, user.totpSecret), code, now());
      return step !== null && (await deps.users.consumeTotpStep(user.id, step)) ? 'totp' : null;
    },
  };
}

export type SecondFactor = ReturnType<typeof createSecondFactor>;
