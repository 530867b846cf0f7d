/**
 * Two-factor sign-in, as a user sets it up and an admin resets it:
 *
 * - setup: the password again (a stolen token alone cannot bind another
 *   phone), then a new secret shown once, as text and as a QR code;
 * - enable: the first code from the app proves it holds the secret; the
 *   user's other sessions, opened without it, end; recovery codes are shown
 *   once (a new set can be made with the password);
 * - disable: password and code, unless the user's role must have it.
 *
 * - security keys: with two-factor sign-in on, keys (WebAuthn) can be added
 *   (the password again) and removed; each then passes the second factor
 *   like a code. Turning two-factor off removes them.
 *
 * An admin's reset (a lost phone) is an account action: src/services/accounts.ts resetMfa.
 *
 * Attempts at the password or a code are throttled per user, counted before
 * the check, like the password change.
 */
import qrcode from 'qrcode-generator';
import type { Logger } from 'pino';
import type { AuthUser } from '../auth/roles.ts';
import { verifyPassword } from '../auth/password.ts';
import type { PasswordAttempts } from '../auth/password-attempts.ts';
import type { SecondFactor } from '../auth/second-factor.ts';
import { newTotpSecret, otpauthUri } from '../auth/totp.ts';
import { newRecoveryCodes, normalizeRecoveryCode, recoveryCodeHash } from '../auth/recovery-codes.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { UserRepository, UserRow } from '../db/repositories/users.ts';
import type { SecurityKeyRepository, SecurityKeyRow } from '../db/repositories/security-keys.ts';
import { SecurityKeyError, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON, type RelyingParty } from '../auth/security-keys.ts';
import type { MfaRecoveryCodes, MfaSetup, SecurityKeyView } from '../contracts/api.ts';
import { accountAuditor, existingUser, type AccountActor } from './accounts.ts';
import { ServiceError } from './errors.ts';

export const TOTP_ISSUER = 'MaskWatch';

/** Keys per account: a spare or two and a phone, with room to spare. */
const MAX_SECURITY_KEYS = 10;

function securityKeyView(k: SecurityKeyRow): SecurityKeyView {
  return { id: k.id, name: k.name, createdAt: k.createdAt.toISOString(), lastUsedAt: k.lastUsedAt?.toISOString() ?? null };
}

export interface TwoFactorServiceDeps {
  users: UserRepository;
  keys: SecurityKeyRepository;
  audit: AuditRepository;
  secondFactor: SecondFactor;
  attempts: PasswordAttempts;
  /** Ends a user's sessions (all, or all but one) and drops their sockets (src/services/accounts.ts sessionEnder). */
  endSessions(userId: string, exceptSessionId?: string): Promise<number>;
  logger: Logger;
  now?: () => Date;
}

/** The otpauth URI as an SVG QR code (error correction M: readable off a screen at an angle). */
export function qrCodeSvg(text: string): string {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return qr.createSvgTag({ cellSize: 4, margin: 4 });
}

export function createTwoFactorService(deps: TwoFactorServiceDeps) {
  const now = deps.now ?? (() => new Date());
  const audit = accountAuditor(deps.audit);
  const actorOf = (self: AuthUser, clientIp: string): AccountActor => ({ type: 'USER', id: self.id, role: self.role, clientIp });

  const existing = (id: string) => existingUser(deps.users, id);

  /** Charges one attempt at the user's password or code before it is checked. */
  async function attempt(userId: string): Promise<void> {
    const a = await deps.attempts.begin(userId);
    if (!a.allowed) {
      const retry = Math.max(1, Math.ceil(a.retryAfterMs / 1000));
      throw new ServiceError('TOO_MANY', `too many attempts; retry in ${retry} s`, 'mfa-throttled', retry);
    }
  }

  async function checkPassword(user: UserRow, password: string): Promise<void> {
    if (!(await verifyPassword(password, user.passwordHash))) throw new ServiceError('FORBIDDEN', 'the password is wrong', 'wrong-password');
  }

  function keyCeremonies() {
    const ceremonies = deps.secondFactor.securityKeys;
    if (!ceremonies) throw new ServiceError('UNAVAILABLE', 'security keys need the shared store of challenges (Redis)', 'security-keys-unavailable');
    return ceremonies;
  }

  /** A new set of recovery codes replaces the earlier one; only their hashes are kept. */
  async function issueRecoveryCodes(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await deps.users.replaceRecoveryCodes(userId, codes.map((c) => recoveryCodeHash(userId, normalizeRecoveryCode(c)!)));
    return codes;
  }

  return {
    async beginSetup(self: AuthUser, password: string): Promise<MfaSetup> {
      const user = await existing(self.id);
      if (user.totpEnabledAt) throw new ServiceError('CONFLICT', 'two-factor sign-in is on already: turn it off first to move it to another app', 'mfa-enabled');
      await attempt(user.id);
      await checkPassword(user, password);
      await deps.attempts.succeeded(user.id);
      const secret = newTotpSecret();
      await deps.users.setTotpPending(user.id, await deps.secondFactor.seal(user.id, secret));
      const uri = otpauthUri({ issuer: TOTP_ISSUER, account: user.username, secret });
      return { secret, otpauthUri: uri, qrSvg: qrCodeSvg(uri) };
    },

    /** The first code of the app shown at setup turns the second factor on. */
    async enable(self: AuthUser, code: string, clientIp: string): Promise<MfaRecoveryCodes & { otherSessionsRevoked: number }> {
      const user = await existing(self.id);
      if (user.totpEnabledAt) throw new ServiceError('CONFLICT', 'two-factor sign-in is on already', 'mfa-enabled');
      if (!user.totpPendingSecret) throw new ServiceError('CONFLICT', 'start the setup first (POST /api/v1/auth/mfa/setup)', 'mfa-setup-not-started');
      await attempt(user.id);
      const step = deps.secondFactor.match(await deps.secondFactor.open(user.id, user.totpPendingSecret), code);
      if (step === null) throw new ServiceError('INVALID', 'wrong code: check the phone\'s clock, and type the code the app shows now', 'mfa-failed');
      await deps.attempts.succeeded(user.id);
      await deps.users.enableTotp(user.id, user.totpPendingSecret, step, now());
      const recoveryCodes = await issueRecoveryCodes(user.id);
      const otherSessionsRevoked = await deps.endSessions(user.id, self.sessionId);
      await audit(actorOf(self, clientIp), 'user.mfa_enable', user, { otherSessionsRevoked });
      deps.logger.info({ userId: user.id, otherSessionsRevoked }, 'two-factor sign-in enabled');
      return { recoveryCodes, otherSessionsRevoked };
    },

    /** A new set of recovery codes (the old ones were used up, or seen): the password again. */
    async renewRecoveryCodes(self: AuthUser, password: string, clientIp: string): Promise<MfaRecoveryCodes> {
      const user = await existing(self.id);
      if (!user.totpEnabledAt) throw new ServiceError('CONFLICT', 'two-factor sign-in is off', 'mfa-not-enabled');
      await attempt(user.id);
      await checkPassword(user, password);
      await deps.attempts.succeeded(user.id);
      const recoveryCodes = await issueRecoveryCodes(user.id);
      await audit(actorOf(self, clientIp), 'user.mfa_recovery_codes', user, { count: recoveryCodes.length });
      return { recoveryCodes };
    },

    async disable(self: AuthUser, password: string, code: string, clientIp: string): Promise<void> {
      const user = await existing(self.id);
      if (!user.totpEnabledAt) throw new ServiceError('CONFLICT', 'two-factor sign-in is off already', 'mfa-not-enabled');
      if (deps.secondFactor.requiredRoles.includes(self.role)) {
        throw new ServiceError('FORBIDDEN', `two-factor sign-in is required for ${self.role} accounts here (MASKWATCH_MFA_REQUIRED or MASKWATCH_SECURITY_KEY_REQUIRED)`, 'mfa-required-by-policy');
      }
      await attempt(user.id);
      await checkPassword(user, password);
      if (!(await deps.secondFactor.verify(user, { code }))) throw new ServiceError('INVALID', 'wrong or already used code', 'mfa-failed');
      await deps.attempts.succeeded(user.id);
      const securityKeysRemoved = await deps.keys.countFor(user.id);
      await deps.users.clearTotp(user.id);
      await audit(actorOf(self, clientIp), 'user.mfa_disable', user, { securityKeysRemoved });
    },

    async listKeys(self: AuthUser): Promise<SecurityKeyView[]> {
      return (await deps.keys.listFor(self.id)).map(securityKeyView);
    },

    /** A challenge for a new key: the password again, as for the app. */
    async beginKeyRegistration(self: AuthUser, password: string, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const ceremonies = keyCeremonies();
      const user = await existing(self.id);
      if (!user.totpEnabledAt) throw new ServiceError('CONFLICT', 'turn two-factor sign-in on with an authenticator app first: it stays the fallback for a lost key', 'mfa-not-enabled');
      const keys = await deps.keys.listFor(user.id);
      if (keys.length >= MAX_SECURITY_KEYS) throw new ServiceError('CONFLICT', `at most ${MAX_SECURITY_KEYS} security keys per account: remove one first`, 'security-key-limit');
      await attempt(user.id);
      await checkPassword(user, password);
      await deps.attempts.succeeded(user.id);
      return ceremonies.registrationOptions(user, keys, rp);
    },

    /** The browser's answer to the last challenge: the key is added under `name`. */
    async addKey(self: AuthUser, name: string, response: RegistrationResponseJSON, rp: RelyingParty, clientIp: string): Promise<SecurityKeyView> {
      const ceremonies = keyCeremonies();
      const user = await existing(self.id);
      if (!user.totpEnabledAt) throw new ServiceError('CONFLICT', 'two-factor sign-in is off', 'mfa-not-enabled');
      let key;
      try {
        key = await ceremonies.verifyRegistration(user.id, response, rp);
      } catch (err) {
        if (!(err instanceof SecurityKeyError)) throw err;
        deps.logger.info({ userId: user.id, reason: err.message }, 'security key registration refused');
        throw new ServiceError('INVALID', 'the key\'s answer was not accepted: start again (it is good for 5 minutes, at this address only)', 'security-key-failed');
      }
      if (await deps.keys.findByCredentialId(key.credentialId)) throw new ServiceError('CONFLICT', 'this key is registered already', 'security-key-exists');
      const row = await deps.keys.add({ userId: user.id, name: name.trim(), ...key });
      await audit(actorOf(self, clientIp), 'user.security_key_add', user, { keyId: row.id, name: row.name });
      return securityKeyView(row);
    },

    async removeKey(self: AuthUser, id: string, clientIp: string): Promise<void> {
      const user = await existing(self.id);
      const keys = await deps.keys.listFor(user.id);
      const key = keys.find((k) => k.id === id);
      if (key && keys.length === 1 && deps.secondFactor.keyRequired(self.role)) {
        throw new ServiceError('FORBIDDEN', `${self.role} accounts here sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED): add the new key before removing the last one`, 'security-key-required-by-policy');
      }
      if (!key || !(await deps.keys.remove(user.id, id))) throw new ServiceError('NOT_FOUND', 'no such security key of yours', 'security-key-not-found');
      await audit(actorOf(self, clientIp), 'user.security_key_remove', user, { keyId: key.id, name: key.name });
    },

  };
}

export type TwoFactorService = ReturnType<typeof createTwoFactorService>;
