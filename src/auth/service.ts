import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { UserRepository } from '../db/repositories/users.ts';
import type { SessionOrigin, SessionRepository } from '../db/repositories/sessions.ts';
import type { SecondFactorKind, SignInMethod } from '../contracts/vocabulary.ts';
import { actorFields, type AuditRepository } from '../db/repositories/audit.ts';
import { dummyPasswordHash, hashPassword, passwordProblem, verifyPassword } from './password.ts';
import { hashSecret, newSessionToken } from './tokens.ts';
import { isRole, normaliseZones, parseZones, storedZones, type AuthUser, type Role } from './roles.ts';
import type { LoginThrottle } from './login-throttle.ts';
import type { SecondFactor, SecondFactorAnswer } from './second-factor.ts';
import type { PublicKeyCredentialRequestOptionsJSON, RelyingParty } from './security-keys.ts';

/** Where a sign-in comes from, and the version of the sign-in notice it accepted (audited with it). */
export type SignInOrigin = SessionOrigin & { clientIp: string; noticeVersion?: string };

export interface AuthServiceDeps {
  users: UserRepository;
  sessions: SessionRepository;
  audit: AuditRepository;
  tokenTtlSeconds: number;
  logger: Logger;
  now?: () => Date;
  /** Slows guessing per (username, client IP); without it loginFrom only audits. */
  throttle?: LoginThrottle;
  /** TOTP codes of enrolled users, and who must enrol; without it nobody is asked for a code. */
  secondFactor?: SecondFactor;
  /** Roles that must sign in through the directory (MASKWATCH_SSO_REQUIRED): their password is refused. */
  ssoRequiredRoles?: readonly Role[];
  /** A single sign-on session, renewals included, ends this long after the sign-on (MASKWATCH_SSO_SESSION_HOURS). */
  ssoSessionHours?: number;
}

export type LoginOutcome =
  | ({ ok: true; secondFactor?: SecondFactorKind } & LoginResult)
  /**
   * The password was right and the account has a second factor, but no code or key answer came with it;
   * `securityKey`: a challenge for the account's security keys, when it has some.
   */
  | { ok: false; reason: 'mfa-required'; securityKey?: PublicKeyCredentialRequestOptionsJSON }
  /** A code came, but the role signs in with its security key only (MASKWATCH_SECURITY_KEY_REQUIRED): the key's challenge. */
  | { ok: false; reason: 'security-key-required'; securityKey: PublicKeyCredentialRequestOptionsJSON | null }
  /** `sso-required`: the password was right, but the role signs in only through the directory. */
  | { ok: false; reason: 'failed' | 'mfa-failed' | 'sso-required' }
  | { ok: false; reason: 'throttled'; retryAfterMs: number };

export interface LoginResult {
  token: string;
  expiresAt: Date;
  user: SessionUser;
}

/** The user as a login or a renewal answers it. */
export type SessionUser = Omit<AuthUser, 'sessionId' | 'sessionExpiresAt'> & { mfaEnabled: boolean; mfaSetupRequired: boolean; securityKeySetupRequired: boolean };

/** Who the directory says signed on (single sign-on, src/auth/sso.ts). */
export interface SsoIdentity {
  subject: string;
  /** The directory's username claim, used to find the account at its first sign-on. */
  username: string | null;
  /** The person's groups (MASKWATCH_SSO_GROUPS_CLAIM), read when groups give access; null otherwise or when absent. */
  groups: string[] | null;
}

export type SsoAccountOutcome = { ok: true; userId: string } | { ok: false; reason: 'no-account' | 'disabled' | 'linked-elsewhere' };

/** Bad input to a user-management call: the message is safe to show. */
export class UserInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserInputError';
  }
}

/** `@` too: directories often name people by e-mail-like names (Entra ID's UPN), which single sign-on matches. */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.@-]{3,64}$/;

export function createAuthService(deps: AuthServiceDeps) {
  const now = deps.now ?? (() => new Date());

  /**
   * A session from single sign-on is under the directory's sign-in policy (its password rules, its second
   * factor): MaskWatch's own password change, two-factor enrolment and security keys are not asked of it.
   */
  async function sessionUser(
    user: { id: string; username: string; role: Role; unitId: string | null; zones: readonly string[]; mustChangePassword?: boolean; mfaEnabled: boolean },
    signInMethod: SignInMethod = 'password',
  ): Promise<SessionUser> {
    const local = signInMethod === 'password';
    const mfa = deps.secondFactor;
    return {
      id: user.id,
      username: user.username,
      role: user.role,
      unitId: user.unitId,
      zones: user.zones,
      mustChangePassword: local && (user.mustChangePassword ?? false),
      mfaEnabled: user.mfaEnabled,
      mfaSetupRequired: local && (mfa?.setupRequired(user.role, user.mfaEnabled) ?? false),
      securityKeySetupRequired: local && !!mfa && (await mfa.keySetupRequired(user, user.mfaEnabled)),
    };
  }

  const ssoBound = (signedOnAt: Date) => new Date(signedOnAt.getTime() + (deps.ssoSessionHours ?? 12) * 3_600_000);

  /**
   * A new token. A single sign-on one never lives past its sign-on's bound: MaskWatch cannot see a person
   * disabled in the directory, so renewals alone must not keep them in.
   */
  async function openSession(userId: string, origin: SessionOrigin): Promise<{ token: string; expiresAt: Date }> {
    const token = newSessionToken();
    const t = now();
    let expiresAt = new Date(t.getTime() + deps.tokenTtlSeconds * 1000);
    if (origin.signInMethod === 'sso') {
      const signedOnAt = origin.signedOnAt ?? t;
      const bound = ssoBound(signedOnAt);
      if (bound < expiresAt) expiresAt = bound;
      origin = { ...origin, signedOnAt };
    }
    await deps.sessions.create(userId, hashSecret(token), expiresAt, origin);
    // A renewal is use too: a dispatcher on a week of night shifts is not inactive.
    await deps.users.touchSignIn(userId, now());
    return { token, expiresAt };
  }

  const auditSso = (user: { id: string; role: string } | null, action: 'auth.login' | 'auth.login_failed' | 'user.sso_link', details: Record<string, unknown>) =>
    deps.audit.record({
      actorType: user ? 'USER' : 'SYSTEM',
      actorId: user?.id ?? null,
      actorRole: user?.role ?? null,
      action,
      subjectType: 'User',
      subjectId: user?.id ?? null,
      details: { signInMethod: 'sso', ...details },
    });

  return {
    /**
     * `failed` for any failure of the password (unknown user, wrong password, disabled): callers answer 401
     * alike. Only after the right password does an enrolled account say it needs a code, or that the code
     * was wrong.
     */
    async login(username: string, password: string, answer: SecondFactorAnswer = {}, origin: SessionOrigin = {}, rp?: RelyingParty): Promise<LoginOutcome> {
      const user = await deps.users.findByUsername(username);
      if (!user) {
        await verifyPassword(password, await dummyPasswordHash()); // same cost as a real check
        return { ok: false, reason: 'failed' };
      }
      const ok = await verifyPassword(password, user.passwordHash);
      // No per-account lock here: a lock anyone can trigger is a denial of service. Guessing is
      // slowed per (username, client IP) before this call (src/auth/login-throttle.ts).
      if (!ok || user.disabled) return { ok: false, reason: 'failed' };
      if (deps.ssoRequiredRoles?.includes(user.role as Role)) return { ok: false, reason: 'sso-required' };
      const mfa = deps.secondFactor;
      let secondFactor: SecondFactorKind | undefined;
      if (mfa?.enrolled(user)) {
        if (!answer.code && !answer.securityKey) {
          const securityKey = await mfa.keyChallenge(user.id, rp);
          return { ok: false, reason: 'mfa-required', ...(securityKey ? { securityKey } : {}) };
        }
        // Refused before it is checked: a code relayed by a look-alike page must not even be used up.
        if (!answer.securityKey && (await mfa.keyOnly({ id: user.id, role: user.role as Role }))) {
          return { ok: false, reason: 'security-key-required', securityKey: await mfa.keyChallenge(user.id, rp) };
        }
        secondFactor = (await mfa.verify(user, answer, rp)) ?? undefined;
        if (!secondFactor) return { ok: false, reason: 'mfa-failed' };
      }
      const { token, expiresAt } = await openSession(user.id, { ...origin, signInMethod: 'password' });
      return { ok: true, secondFactor, token, expiresAt, user: await sessionUser({ ...user, role: user.role as Role, zones: parseZones(user.zones), mfaEnabled: user.totpEnabledAt !== null }) };
    },

    /**
     * A login over the network: throttled per (username, client IP) BEFORE the
     * password is checked, and audited with the client address either way.
     */
    async loginFrom(
      username: string,
      password: string,
      origin: SignInOrigin,
      answer: SecondFactorAnswer = {},
      rp?: RelyingParty,
    ): Promise<LoginOutcome> {
      const { clientIp } = origin;
      // A wrong code is a failed attempt like a wrong password: six digits cannot be guessed under growing delays.
      const attempt = deps.throttle ? await deps.throttle.begin(username, clientIp) : null;
      if (attempt && !attempt.allowed) return { ok: false, reason: 'throttled', retryAfterMs: attempt.retryAfterMs };
      const result = await this.login(username, password, answer, origin, rp);
      if (result.ok && attempt?.allowed) await deps.throttle!.succeeded(attempt.ticket);
      // Asking for the code is a step of a login, not a failure worth an audit event.
      if (!result.ok && result.reason === 'mfa-required') return result;
      await deps.audit.record({
        actorType: result.ok ? 'USER' : 'SYSTEM',
        actorId: result.ok ? result.user.id : null,
        actorRole: result.ok ? result.user.role : null,
        action: result.ok ? 'auth.login' : 'auth.login_failed',
        subjectType: 'User',
        subjectId: result.ok ? result.user.id : null,
        // The name as typed (bounded by the route schema): failed attempts on unknown names are worth seeing too.
        details: {
          username,
          clientIp,
          ...(origin.noticeVersion ? { noticeVersion: origin.noticeVersion } : {}),
          ...(result.ok && result.secondFactor ? { secondFactor: result.secondFactor } : {}),
          ...(!result.ok && result.reason === 'mfa-failed' ? { reason: answer.securityKey ? 'security key not accepted' : 'wrong second-factor code' } : {}),
          ...(!result.ok && result.reason === 'sso-required' ? { reason: 'password sign-in refused: the role signs in through the directory' } : {}),
          ...(!result.ok && result.reason === 'security-key-required' ? { reason: 'code refused: the role signs in with a security key' } : {}),
        },
      });
      return result;
    },

    /** The user behind a bearer token, or null if unknown, expired, revoked or disabled. */
    async authenticate(token: string): Promise<AuthUser | null> {
      const session = await deps.sessions.findByTokenHash(hashSecret(token));
      if (!session || session.revokedAt || session.expiresAt <= now() || session.user.disabled) return null;
      const signInMethod: SignInMethod = session.signInMethod === 'sso' ? 'sso' : 'password';
      return {
        ...(await sessionUser({ ...session.user, zones: parseZones(session.user.zones), mfaEnabled: session.user.totpEnabledAt !== null }, signInMethod)),
        sessionId: session.id,
        signInMethod,
        ...(session.signedOnAt ? { signedOnAt: session.signedOnAt } : {}),
        sessionExpiresAt: session.expiresAt,
      };
    },

    async logout(token: string): Promise<boolean> {
      return deps.sessions.revoke(hashSecret(token), now());
    },

    /**
     * Renews a valid session for a page that stays open longer than one token
     * lives (a dispatcher's shift): a new token with a full lifetime replaces the
     * old one, which is revoked. null when the old one is no longer valid.
     */
    async renew(token: string, origin: SessionOrigin = {}): Promise<LoginResult | null> {
      const user = await this.authenticate(token);
      if (!user) return null;
      const signInMethod = user.signInMethod ?? 'password';
      // Past its sign-on's bound (the setting was lowered meanwhile): sign on again.
      if (user.signedOnAt && ssoBound(user.signedOnAt) <= now()) return null;
      const next = await openSession(user.id, { ...origin, signInMethod, signedOnAt: user.signedOnAt });
      await deps.sessions.revoke(hashSecret(token), now());
      return { ...next, user: await sessionUser({ ...user, mfaEnabled: user.mfaEnabled ?? false }, signInMethod) };
    },

    /**
     * The account a directory identity signs on to: the one linked to its subject; at its first sign-on,
     * the one whose username is the directory's (letter case aside), which is then linked to the subject
     * for good, so a later rename in the directory cannot move it to another account. Failures are audited.
     */
    async ssoAccount(identity: SsoIdentity, clientIp: string): Promise<SsoAccountOutcome> {
      let user = await deps.users.findBySsoSubject(identity.subject);
      if (!user && identity.username) {
        const name = await deps.users.usernameFoldedLike(identity.username);
        const candidate = name ? await deps.users.findByUsername(name) : null;
        if (candidate && !candidate.disabled) {
          if (!(await deps.users.linkSsoSubject(candidate.id, identity.subject))) {
            await auditSso(null, 'auth.login_failed', { username: identity.username, clientIp, ssoSubject: identity.subject, reason: 'account linked to another directory identity' });
            return { ok: false, reason: 'linked-elsewhere' };
          }
          await auditSso(candidate, 'user.sso_link', { username: candidate.username, ssoSubject: identity.subject });
        }
        user = candidate;
      }
      const reason = !user ? 'no-account' : user.disabled ? 'disabled' : null;
      if (!user || reason) {
        await auditSso(null, 'auth.login_failed', { username: identity.username, clientIp, ssoSubject: identity.subject, reason: reason === 'disabled' ? 'account disabled' : 'no account' });
        return { ok: false, reason: reason ?? 'no-account' };
      }
      return { ok: true, userId: user.id };
    },

    /** Opens the session of a single sign-on (ssoAccount found the account moments before); null when it was disabled since. */
    async ssoLogin(userId: string, origin: SignInOrigin): Promise<LoginResult | null> {
      const user = await deps.users.findById(userId);
      if (!user || user.disabled) return null;
      const session = await openSession(user.id, { ...origin, signInMethod: 'sso' });
      await auditSso(user, 'auth.login', { username: user.username, clientIp: origin.clientIp, ssoSubject: user.ssoSubject, ...(origin.noticeVersion ? { noticeVersion: origin.noticeVersion } : {}) });
      return { ...session, user: await sessionUser({ ...user, role: user.role as Role, zones: parseZones(user.zones), mfaEnabled: user.totpEnabledAt !== null }, 'sso') };
    },

    /**
     * `password` null: an account the directory made (a first single sign-on with MASKWATCH_SSO_CREATE_ACCOUNTS,
     * linked to `ssoSubject`, or SCIM provisioning), whose password is a random one nobody knows until an admin
     * resets it. `actor.source` says which.
     */
    async createUser(
      input: { username: string; password: string | null; role: string; unitCallSign?: string | null; zones?: readonly string[]; mustChangePassword?: boolean; ssoSubject?: string },
      actor: { type: 'USER' | 'SYSTEM'; id?: string; role?: string; source?: 'directory' | 'provisioning' },
    ) {
      if (!USERNAME_PATTERN.test(input.username)) {
        throw new UserInputError('username must be 3–64 letters, digits, ".", "_", "-" or "@"');
      }
      if (!isRole(input.role)) throw new UserInputError('role must be ADMIN, DISPATCHER or OFFICER');
      if (input.password === null && !actor.source) throw new UserInputError('a password is required');
      const problem = input.password === null ? null : passwordProblem(input.password);
      if (problem) throw new UserInputError(problem);
      if (input.unitCallSign && input.role !== 'OFFICER') throw new UserInputError('only officers belong to a patrol unit');
      let unitId: string | null = null;
      if (input.unitCallSign) {
        unitId = await deps.users.unitIdByCallSign(input.unitCallSign);
        if (!unitId) throw new UserInputError(`no patrol unit with call sign "${input.unitCallSign}"`);
      }
      if (input.role === 'OFFICER' && !unitId) throw new UserInputError('an OFFICER needs a unit');
      const { zones, problem: zoneProblem } = normaliseZones(input.role, input.zones ?? []);
      if (zoneProblem) throw new UserInputError(zoneProblem);
      const taken = await deps.users.usernameFoldedLike(input.username);
      if (taken) throw new UserInputError(taken === input.username ? `user "${input.username}" already exists` : `user "${taken}" already exists (names differing only in case are refused)`);
      const user = await deps.users.create({
        username: input.username,
        // A real hash of an unknown secret: a password sign-in costs and answers as for anyone else.
        passwordHash: await hashPassword(input.password ?? randomBytes(32).toString('base64url')),
        role: input.role,
        unitId,
        zones: storedZones(zones),
        mustChangePassword: input.mustChangePassword ?? false,
        ssoSubject: input.ssoSubject ?? null,
      });
      // Made by another request between the check above and now (a directory's retry, a double click).
      if (!user) throw new UserInputError(`user "${input.username}" already exists`);
      await deps.audit.record({
        ...actorFields(actor),
        action: 'user.create',
        subjectType: 'User',
        subjectId: user.id,
        details: { username: user.username, role: user.role, unitId, ...(zones.length > 0 ? { zones } : {}), ...(input.ssoSubject ? { ssoSubject: input.ssoSubject } : {}), ...(actor.source ? { source: actor.source } : {}) },
      });
      return { id: user.id, username: user.username, role: user.role as Role, unitId: user.unitId, zones };
    },

    /**
     * Creates the first admin from the environment while the database has no
     * admin at all; a no-op afterwards (the password is never overwritten). Once
     * an admin exists the variables are ignored: a deleted admin must not come
     * back at the next start to whoever knows the setup password.
     * `mustChangePassword`: the environment's password is a setup credential
     * (it sits in compose files and shell history), so by default the admin
     * must choose a new one before doing anything else.
     */
    async ensureAdmin(
      admin: { username: string; password: string } | null,
      opts: { mustChangePassword?: boolean } = {},
    ): Promise<'created' | 'exists' | 'skipped'> {
      if (!admin) return 'skipped';
      if (await deps.users.findByUsername(admin.username)) return 'exists';
      if ((await deps.users.countAdmins()) > 0) {
        deps.logger.info({ username: admin.username }, 'MASKWATCH_ADMIN_USER ignored: the database has an admin already');
        return 'exists';
      }
      try {
        await this.createUser({ ...admin, role: 'ADMIN', mustChangePassword: opts.mustChangePassword ?? true }, { type: 'SYSTEM' });
      } catch (err) {
        // Another instance starting at the same moment created it first.
        if (await deps.users.findByUsername(admin.username)) return 'exists';
        throw err;
      }
      deps.logger.info({ username: admin.username }, 'first admin created from MASKWATCH_ADMIN_USER');
      return 'created';
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
