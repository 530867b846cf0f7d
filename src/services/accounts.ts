/**
 * Account lifecycle: change a user's role, unit, zones or enabled state, reset or
 * change a password, revoke sessions, delete (anonymise) an account.
 *
 * Every change that alters what a user may see ends their sessions (tokens are
 * revoked in the database, so every API instance refuses them at once) and
 * disconnects their sockets on every instance (`sockets`). The sockets' own
 * periodic re-check (src/realtime/session-watch.ts) catches whatever that
 * broadcast misses (Redis away, a change made by the CLI without Redis).
 */
import type { Logger } from 'pino';
import { normaliseZones, parseZones, storedZones, type AuthUser } from '../auth/roles.ts';
import { hashPassword, passwordProblem, verifyPassword } from '../auth/password.ts';
import type { PasswordAttempts } from '../auth/password-attempts.ts';
import { actorFields, type AuditRepository } from '../db/repositories/audit.ts';
import type { SessionRepository } from '../db/repositories/sessions.ts';
import type { UserRepository, UserRow } from '../db/repositories/users.ts';
import type { SecurityKeyRepository } from '../db/repositories/security-keys.ts';
import type { Role } from '../contracts/vocabulary.ts';
import type { AccountPatch, SessionView } from '../contracts/api.ts';
import { ServiceError, notFound } from './errors.ts';

/** A user as administration shows it. */
export interface AccountView {
  id: string;
  username: string;
  role: Role;
  unitId: string | null;
  zones: string[];
  enabled: boolean;
  mustChangePassword: boolean;
  mfaEnabled: boolean;
  ssoLinked: boolean;
  lastSignInAt: string | null;
  securityKeys: number;
  securityKeyRequired: boolean;
}

/** Who asks: an admin over the API (with the client address), or the CLI / system. */
export interface AccountActor {
  type: 'USER' | 'SYSTEM';
  id?: string;
  role?: string;
  clientIp?: string;
  /** Why the system acts: `directory`, the groups of a single sign-on; `provisioning`, the directory's SCIM client. */
  source?: 'directory' | 'provisioning';
}

/** Disconnects a user's sockets on every API instance (through the Socket.IO Redis adapter or emitter). */
export interface SessionSockets {
  disconnectUser(userId: string, exceptSessionId?: string): Promise<void>;
  disconnectSession(sessionId: string): Promise<void>;
}

export type PasswordChangeOutcome =
  | { ok: true; otherSessionsRevoked: number }
  | { ok: false; reason: 'wrong-password' }
  | { ok: false; reason: 'throttled'; retryAfterMs: number };

export interface AccountServiceDeps {
  users: UserRepository;
  /** Counted in the account's view. */
  keys: Pick<SecurityKeyRepository, 'countFor'>;
  /** Roles that must sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED), shown in the account's view. */
  securityKeyRoles?: readonly Role[];
  sessions: SessionRepository;
  audit: AuditRepository;
  /** Absent where no socket can be reached (the periodic re-check then does it). */
  sockets?: SessionSockets;
  /** Throttles the self-service password change; required for changeOwnPassword. */
  passwordAttempts?: PasswordAttempts;
  logger: Logger;
  now?: () => Date;
}

/** A hash verifyPassword never accepts: deleted accounts cannot log in. */
const UNUSABLE_HASH = '!deleted';

/** `securityKeyRoles`: the roles that must sign in with a key (MASKWATCH_SECURITY_KEY_REQUIRED). */
export function accountView(u: UserRow, securityKeys: number, securityKeyRoles: readonly Role[]): AccountView {
  return {
    id: u.id,
    username: u.username,
    role: u.role as Role,
    unitId: u.unitId,
    zones: parseZones(u.zones),
    enabled: !u.disabled,
    mustChangePassword: u.mustChangePassword,
    mfaEnabled: u.totpEnabledAt !== null,
    ssoLinked: u.ssoSubject !== null,
    lastSignInAt: u.lastSignInAt?.toISOString() ?? null,
    securityKeys,
    securityKeyRequired: securityKeyRoles.includes(u.role as Role),
  };
}

/** A user that exists (not deleted), or a 404 user-not-found. */
export async function existingUser(users: Pick<UserRepository, 'findById'>, id: string): Promise<UserRow> {
  const user = await users.findById(id);
  if (!user || user.deletedAt) throw notFound(`user ${id}`, 'user-not-found');
  return user;
}

/** Revokes a user's sessions in the database, then drops their sockets everywhere; the count revoked. */
export function sessionEnder(deps: Pick<AccountServiceDeps, 'sessions' | 'sockets' | 'logger' | 'now'>) {
  const now = deps.now ?? (() => new Date());
  return async function endSessions(userId: string, exceptSessionId?: string): Promise<number> {
    const revoked = await deps.sessions.revokeAllOfUser(userId, now(), exceptSessionId);
    try {
      await deps.sockets?.disconnectUser(userId, exceptSessionId);
    } catch (err) {
      // The tokens are revoked already; the sockets' periodic re-check drops them within seconds.
      deps.logger.warn({ err, userId }, 'could not broadcast the socket disconnect');
    }
    return revoked;
  };
}

/** Records an account action with the user's name and the actor's client address. */
export function accountAuditor(audit: AuditRepository) {
  return (actor: AccountActor, action: string, user: Pick<UserRow, 'id' | 'username'>, details: Record<string, unknown>) =>
    audit.record({
      ...actorFields(actor),
      action,
      subjectType: 'User',
      subjectId: user.id,
      details: { username: user.username, ...details, ...(actor.clientIp ? { clientIp: actor.clientIp } : {}), ...(actor.source ? { source: actor.source } : {}) },
    });
}

export function createAccountService(deps: AccountServiceDeps) {
  const now = deps.now ?? (() => new Date());

  const existing = (id: string) => existingUser(deps.users, id);
  const view = async (u: UserRow) => accountView(u, await deps.keys.countFor(u.id), deps.securityKeyRoles ?? []);

  async function byName(username: string): Promise<UserRow> {
    const user = await deps.users.findByUsername(username);
    if (!user || user.deletedAt) throw notFound(`user "${username}"`, 'user-not-found');
    return user;
  }

  /** Nobody may disable, demote or delete the last enabled admin (the CLI can still repair it). */
  async function keepOneAdmin(user: UserRow): Promise<void> {
    if (user.role !== 'ADMIN' || user.disabled) return;
    if ((await deps.users.countActiveAdmins(user.id)) === 0) {
      throw new ServiceError('CONFLICT', `${user.username} is the last enabled admin: create or enable another admin first`, 'last-admin');
    }
  }

  const endSessions = sessionEnder(deps);
  const audit = accountAuditor(deps.audit);

  function validPassword(password: string): void {
    const problem = passwordProblem(password);
    if (problem) throw new ServiceError('INVALID', problem, 'invalid-password');
  }

  return {
    async get(id: string): Promise<AccountView> {
      return view(await existing(id));
    },

    /** The id of a user by name (the CLI names users). */
    async idOf(username: string): Promise<string> {
      return (await byName(username)).id;
    },

    /**
     * Role, unit, zones, enabled. A change of role, unit or zones, or disabling,
     * ends every session of the user: what they may see changed, so they log in again.
     */
    async update(id: string, patch: AccountPatch, actor: AccountActor): Promise<AccountView> {
      const user = await existing(id);
      const role = patch.role ?? (user.role as Role);
      if (role !== 'OFFICER' && patch.unitId) throw new ServiceError('INVALID', 'only officers belong to a patrol unit', 'invalid-user');
      // Only officers belong to units: a change of role away from OFFICER takes the user out of theirs.
      const unitId = role !== 'OFFICER' ? null : patch.unitId !== undefined ? patch.unitId : user.unitId;
      const disabled = patch.enabled !== undefined ? !patch.enabled : user.disabled;
      if (unitId !== user.unitId && unitId !== null && !(await deps.users.unitExists(unitId))) {
        throw new ServiceError('INVALID', `no patrol unit with id ${unitId}`, 'invalid-user');
      }
      if (role === 'OFFICER' && !unitId) throw new ServiceError('INVALID', 'an OFFICER needs a unit', 'invalid-user');
      // Only dispatchers have zones: a change of role away from DISPATCHER clears theirs.
      const currentZones = parseZones(user.zones);
      const { zones, problem } = normaliseZones(role, patch.zones ?? (role === 'DISPATCHER' ? currentZones : []));
      if (problem) throw new ServiceError('INVALID', problem, 'invalid-user');
      const changes: Record<string, { from: unknown; to: unknown }> = {};
      if (role !== user.role) changes.role = { from: user.role, to: role };
      if (unitId !== user.unitId) changes.unitId = { from: user.unitId, to: unitId };
      if (zones.join('\n') !== currentZones.join('\n')) changes.zones = { from: currentZones, to: zones };
      if (disabled !== user.disabled) changes.enabled = { from: !user.disabled, to: !disabled };
      if (Object.keys(changes).length === 0) return view(user);
      if (changes.role || (disabled && !user.disabled)) await keepOneAdmin(user);
      const updated = await deps.users.update(id, { role, unitId, zones: storedZones(zones), disabled });
      const endsSessions = Boolean(changes.role || changes.unitId || changes.zones || (disabled && !user.disabled));
      const sessionsRevoked = endsSessions ? await endSessions(id) : 0;
      await audit(actor, 'user.update', user, { changes, sessionsRevoked });
      deps.logger.info({ userId: id, changes: Object.keys(changes), sessionsRevoked }, 'user account changed');
      return view(updated);
    },

    /**
     * An admin sets a new password (the user forgot it, or it leaked): every
     * session ends. `mustChangePassword` makes it a one-time password the user
     * replaces at their next login.
     */
    async resetPassword(id: string, password: string, actor: AccountActor, opts: { mustChangePassword?: boolean } = {}): Promise<void> {
      const user = await existing(id);
      validPassword(password);
      await deps.users.setPassword(id, await hashPassword(password), opts.mustChangePassword ?? false);
      const sessionsRevoked = await endSessions(id);
      await audit(actor, 'user.password_reset', user, { sessionsRevoked, mustChangePassword: opts.mustChangePassword ?? false });
    },

    /**
     * A logged-in user changes their own password: the current one is required
     * (a stolen token alone cannot take the account over) and attempts are
     * throttled per user. The user's other sessions end; this one stays.
     */
    async changeOwnPassword(self: AuthUser, currentPassword: string, newPassword: string, clientIp: string): Promise<PasswordChangeOutcome> {
      if (!deps.passwordAttempts) throw new Error('changeOwnPassword needs passwordAttempts');
      const user = await existing(self.id);
      const actor: AccountActor = { type: 'USER', id: self.id, role: self.role, clientIp };
      const attempt = await deps.passwordAttempts.begin(self.id);
      if (!attempt.allowed) return { ok: false, reason: 'throttled', retryAfterMs: attempt.retryAfterMs };
      if (!(await verifyPassword(currentPassword, user.passwordHash))) {
        await audit(actor, 'user.password_change_failed', user, {});
        return { ok: false, reason: 'wrong-password' };
      }
      validPassword(newPassword);
      if (newPassword.normalize('NFKC') === currentPassword.normalize('NFKC')) {
        throw new ServiceError('INVALID', 'the new password must differ from the current one', 'invalid-password');
      }
      await deps.users.setPassword(self.id, await hashPassword(newPassword), false);
      await deps.passwordAttempts.succeeded(self.id);
      const otherSessionsRevoked = await endSessions(self.id, self.sessionId);
      await audit(actor, 'user.password_change', user, { otherSessionsRevoked, wasRequired: user.mustChangePassword });
      return { ok: true, otherSessionsRevoked };
    },

    /**
     * Removes a user's second factor (a lost or replaced phone): every session
     * ends; they log in with the password and, if their role must have one
     * (MASKWATCH_MFA_REQUIRED), set up a new one before anything else.
     */
    async resetMfa(id: string, actor: AccountActor): Promise<{ sessionsRevoked: number; securityKeysRemoved: number }> {
      const user = await existing(id);
      const securityKeysRemoved = await deps.keys.countFor(id);
      await deps.users.clearTotp(id);
      const sessionsRevoked = await endSessions(id);
      await audit(actor, 'user.mfa_reset', user, { wasEnabled: user.totpEnabledAt !== null, securityKeysRemoved, sessionsRevoked });
      return { sessionsRevoked, securityKeysRemoved };
    },

    /**
     * Unlinks the account from its directory identity (linked to the wrong person, or the person left the
     * directory): the next single sign-on links it again by username. Every session of the user ends.
     */
    async unlinkSso(id: string, actor: AccountActor): Promise<{ sessionsRevoked: number }> {
      const user = await existing(id);
      if (user.ssoSubject === null) throw new ServiceError('CONFLICT', `${user.username} is not linked to a directory identity`, 'sso-not-linked');
      await deps.users.unlinkSsoSubject(id);
      const sessionsRevoked = await endSessions(id);
      await audit(actor, 'user.sso_unlink', user, { ssoSubject: user.ssoSubject, sessionsRevoked });
      return { sessionsRevoked };
    },

    /** The user's sessions that still let them in, newest first; `currentSessionId` is marked. */
    async sessions(userId: string, currentSessionId?: string): Promise<SessionView[]> {
      await existing(userId);
      return (await deps.sessions.active(userId, now())).map((s) => ({
        id: s.id,
        createdAt: s.createdAt.toISOString(),
        expiresAt: s.expiresAt.toISOString(),
        clientIp: s.clientIp,
        userAgent: s.userAgent,
        current: s.id === currentSessionId,
        signInMethod: s.signInMethod === 'sso' ? 'sso' : 'password',
      }));
    },

    /**
     * Signs one session of a user out (a browser left open elsewhere; by its user or an admin): its token and
     * sockets end. 404 for a session that is not the user's, unknown or ended.
     */
    async endSession(userId: string, sessionId: string, actor: AccountActor): Promise<void> {
      const user = await existing(userId);
      if (!(await deps.sessions.revokeOne(userId, sessionId, now()))) throw notFound(`session ${sessionId}`, 'session-not-found');
      try {
        await deps.sockets?.disconnectSession(sessionId);
      } catch (err) {
        deps.logger.warn({ err, sessionId }, 'could not broadcast the socket disconnect');
      }
      await audit(actor, 'user.session_revoke', user, { sessionId, byOwner: actor.id === userId });
    },

    /**
     * Disables the accounts without a sign-in (or renewal) for `days` days: people who left, accounts nobody
     * watches. Never the last enabled admin (warned instead). Each is audited as user.disable_inactive by
     * SYSTEM; their sessions end. The usernames disabled.
     */
    async disableInactive(days: number): Promise<string[]> {
      if (days <= 0) return [];
      const t = now();
      const disabled: string[] = [];
      for (const user of await deps.users.inactiveSince(new Date(t.getTime() - days * 86_400_000))) {
        if (user.role === 'ADMIN' && (await deps.users.countActiveAdmins(user.id)) === 0) {
          deps.logger.warn({ username: user.username, lastSignInAt: user.lastSignInAt }, 'the last enabled admin is inactive, but kept enabled');
          continue;
        }
        await deps.users.update(user.id, { disabled: true });
        const sessionsRevoked = await endSessions(user.id);
        await audit({ type: 'SYSTEM' }, 'user.disable_inactive', user, { lastSignInAt: user.lastSignInAt?.toISOString() ?? null, inactiveDays: days, sessionsRevoked });
        disabled.push(user.username);
      }
      return disabled;
    },

    /** Logs the user out everywhere (a lost phone, a shared screen). */
    async revokeSessions(id: string, actor: AccountActor): Promise<number> {
      const user = await existing(id);
      const sessionsRevoked = await endSessions(id);
      await audit(actor, 'user.sessions_revoke', user, { sessionsRevoked });
      return sessionsRevoked;
    },

    /**
     * Deletes an account by anonymising it: name, password and unit are removed,
     * the row and its id stay, so the audit trail (who viewed which face, who
     * dispatched whom) keeps resolving to "a deleted user". Nothing cascades.
     */
    async delete(id: string, actor: AccountActor): Promise<void> {
      const user = await existing(id);
      await keepOneAdmin(user);
      await deps.users.anonymise(id, now(), `deleted-${id}`, UNUSABLE_HASH);
      const sessionsRevoked = await endSessions(id);
      await audit(actor, 'user.delete', user, { role: user.role, unitId: user.unitId, sessionsRevoked });
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
