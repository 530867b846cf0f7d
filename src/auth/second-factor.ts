/**
 * The second factor of a login: a TOTP code from the user's authenticator
 * app, one of their recovery codes, or a security key registered under it.
 * Holds the policy (which roles must enrol), the sealing of the shared
 * secrets, and the one-use checks. Enrolment itself is a use case
 * (src/services/two-factor.ts).
 */
import type { UserRepository } from '../db/repositories/users.ts';
import type { SecurityKeyRepository } from '../db/repositories/security-keys.ts';
import type { Role, SecondFactorKind } from '../contracts/vocabulary.ts';
import type { SecondFactorAnswer } from '../contracts/api.ts';
import type { SecretBox } from './secret-box.ts';
import { matchTotp } from './totp.ts';
import { normalizeRecoveryCode, recoveryCodeHash } from './recovery-codes.ts';
import {
  SecurityKeyError,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RelyingParty,
  type SecurityKeys,
} from './security-keys.ts';

export type { SecondFactorAnswer };

export interface SecondFactorDeps {
  users: Pick<UserRepository, 'consumeTotpStep' | 'useRecoveryCode'>;
  keys: Pick<SecurityKeyRepository, 'listFor' | 'countFor' | 'findByCredentialId' | 'recordUse'>;
  /** The WebAuthn ceremonies; without them (no challenge store: the CLI) keys are not offered. */
  securityKeys?: SecurityKeys;
  /** Loaded on first use: processes that never see a code never create the key file. */
  box: () => Promise<SecretBox>;
  /** Roles that must enrol before using anything else (MASKWATCH_MFA_REQUIRED, and those below). */
  requiredRoles: readonly Role[];
  /** Roles that must add a security key, and then sign in with it only (MASKWATCH_SECURITY_KEY_REQUIRED). */
  securityKeyRoles?: readonly Role[];
  now?: () => Date;
}

export interface EnrolledUser {
  id: string;
  totpSecret: string | null;
  totpEnabledAt: Date | null;
}

export function createSecondFactor(deps: SecondFactorDeps) {
  const now = deps.now ?? (() => new Date());

  async function verifyKey(userId: string, response: AuthenticationResponseJSON, rp: RelyingParty): Promise<boolean> {
    const key = await deps.keys.findByCredentialId(response.id);
    if (!deps.securityKeys || !key || key.userId !== userId) return false;
    try {
      const signCount = await deps.securityKeys.verifyAuthentication(userId, response, key, rp);
      return await deps.keys.recordUse(key.id, key.signCount, signCount, now());
    } catch (err) {
      if (err instanceof SecurityKeyError) return false;
      throw err;
    }
  }
  return {
    requiredRoles: deps.requiredRoles,
    securityKeyRoles: deps.securityKeyRoles ?? [],
    securityKeys: deps.securityKeys,

    enrolled(user: Pick<EnrolledUser, 'totpEnabledAt'>): boolean {
      return user.totpEnabledAt !== null;
    },

    /** Signed in, but must enrol before anything else. */
    setupRequired(role: Role, enrolled: boolean): boolean {
      return !enrolled && deps.requiredRoles.includes(role);
    },

    /** The role must have a security key (MASKWATCH_SECURITY_KEY_REQUIRED). */
    keyRequired(role: Role): boolean {
      return this.securityKeyRoles.includes(role);
    },

    /** Enrolled, but the role must add a security key before anything else. */
    async keySetupRequired(user: { id: string; role: Role }, enrolled: boolean): Promise<boolean> {
      return enrolled && this.keyRequired(user.role) && (await deps.keys.countFor(user.id)) === 0;
    },

    /** The role must have a key and the user has one: only the key signs in, since a code can be phished. */
    async keyOnly(user: { id: string; role: Role }): Promise<boolean> {
      return this.keyRequired(user.role) && (await deps.keys.countFor(user.id)) > 0;
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
     * A challenge for the user's security keys, as `navigator.credentials.get` takes it; null when they have
     * none (or keys are not offered here).
     */
    async keyChallenge(userId: string, rp: RelyingParty | undefined): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
      if (!deps.securityKeys || !rp) return null;
      const keys = await deps.keys.listFor(userId);
      return keys.length > 0 ? deps.securityKeys.authenticationOptions(userId, keys, rp) : null;
    },

    /**
     * Which second factor `answer` is for the enrolled user, or null: the app's
     * current code, used by no earlier request (nor a later step), one of
     * their unused recovery codes, or one of their security keys signing the
     * challenge last given to them. Each works once.
     */
    async verify(user: EnrolledUser, answer: SecondFactorAnswer, rp?: RelyingParty): Promise<SecondFactorKind | null> {
      if (!user.totpSecret || !user.totpEnabledAt) return null;
      // The route's schema checked its shape; the library checks the rest.
      if (answer.securityKey) return rp && (await verifyKey(user.id, answer.securityKey as AuthenticationResponseJSON, rp)) ? 'security-key' : null;
      const code = answer.code;
      if (!code) return null;
      const recovery = /^\d{6}$/.test(code) ? null : normalizeRecoveryCode(code);
      if (recovery) return (await deps.users.useRecoveryCode(user.id, recoveryCodeHash(user.id, recovery), now())) ? 'recovery-code' : null;
      const step = matchTotp(await this.open(user.id, user.totpSecret), code, now());
      return step !== null && (await deps.users.consumeTotpStep(user.id, step)) ? 'totp' : null;
    },
  };
}

export type SecondFactor = ReturnType<typeof createSecondFactor>;
