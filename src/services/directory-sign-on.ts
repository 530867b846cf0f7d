/**
 * Single sign-on's account step: the account a directory identity signs on to (auth service), then, when
 * the directory's groups give access (MASKWATCH_SSO_ROLE_GROUPS, MASKWATCH_SSO_ZONE_GROUPS), the role and
 * zones its groups give, applied as an admin's change would be: audited, and ending the sessions opened
 * with the old access. A person moved to another precinct, or out of MaskWatch's groups, gets the new
 * access at their next sign-on; MaskWatch cannot see the directory in between, which is why single sign-on
 * sessions end MASKWATCH_SSO_SESSION_HOURS after the sign-on.
 */
import { UserInputError, type AuthService, type SsoAccountOutcome, type SsoIdentity } from '../auth/service.ts';
import type { UserRepository } from '../db/repositories/users.ts';
import { accessFromGroups, type DirectoryGroupMap } from '../auth/directory-groups.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { AccountPatch } from '../contracts/api.ts';
import type { AccountService } from './accounts.ts';
import { ServiceError } from './errors.ts';

/** `no-access`: no group of the directory gives access; `needs-unit`: the directory makes them an officer, and they have no unit yet. */
export type SignOnOutcome = SsoAccountOutcome | { ok: false; reason: 'no-access' | 'needs-unit' };

export interface DirectorySignOnDeps {
  auth: Pick<AuthService, 'ssoAccount' | 'createUser'>;
  accounts: Pick<AccountService, 'get' | 'update'>;
  /** Whether the directory identity has an account yet (by subject, or by username at its first sign-on). */
  users: Pick<UserRepository, 'findBySsoSubject' | 'usernameFoldedLike'>;
  audit: AuditRepository;
  /** null: roles and zones are MaskWatch's alone. */
  groups: DirectoryGroupMap | null;
}

/** Why a provider sends no groups at all, for the admin reading the refusal in the audit trail. */
const noClaim = (claim: string) =>
  `the provider sent no "${claim}" claim (have it send the groups in the ID token or userinfo; Entra ID sends none past 200 groups: send those assigned to the application)`;

/** At most this many of a person's groups go into an audit record (a directory may send hundreds). */
const AUDITED_GROUPS = 50;

export function createDirectorySignOn(deps: DirectorySignOnDeps) {
  async function hasAccount(identity: SsoIdentity): Promise<boolean> {
    return (await deps.users.findBySsoSubject(identity.subject)) !== null || (await deps.users.usernameFoldedLike(identity.username!)) !== null;
  }

  /**
   * MASKWATCH_SSO_CREATE_ACCOUNTS: a person of a role group gets an account at their first sign-on, linked to
   * their directory identity, with the role and zones of their groups. Not an officer: a unit is MaskWatch's to
   * give, so an admin makes those. The refusal, or null when the account exists now (made here, or by a sign-on
   * of the same person a moment before).
   */
  async function createAccount(
    identity: SsoIdentity,
    groups: DirectoryGroupMap,
    refuse: (reason: 'no-access' | 'needs-unit', why: string) => Promise<SignOnOutcome>,
  ): Promise<SignOnOutcome | null> {
    const access = accessFromGroups(groups, identity.groups ?? [], 'OFFICER');
    if (!access.ok) return refuse('no-access', identity.groups === null ? `${access.why}: ${noClaim(groups.claim)}` : access.why);
    if (access.role === 'OFFICER') return refuse('needs-unit', 'the directory makes them an officer: an admin creates officers, with their patrol unit');
    try {
      await deps.auth.createUser({ username: identity.username!, password: null, role: access.role!, zones: access.zones ?? [], ssoSubject: identity.subject }, { type: 'SYSTEM', source: 'directory' });
    } catch (err) {
      // A name MaskWatch does not accept falls through to `no-account`; a concurrent first sign-on made it already.
      if (!(err instanceof UserInputError)) throw err;
    }
    return null;
  }

  return {
    async account(identity: SsoIdentity, clientIp: string): Promise<SignOnOutcome> {
      const groups = identity.groups ?? [];
      const refuse = async (user: { id: string; username: string } | null, reason: 'no-access' | 'needs-unit', why: string): Promise<SignOnOutcome> => {
        await deps.audit.record({
          actorType: 'SYSTEM',
          actorId: null,
          actorRole: null,
          action: 'auth.login_failed',
          subjectType: 'User',
          subjectId: user?.id ?? null,
          details: { signInMethod: 'sso', username: user?.username ?? identity.username, clientIp, ssoSubject: identity.subject, groups: groups.slice(0, AUDITED_GROUPS), reason: why },
        });
        return { ok: false, reason };
      };

      if (deps.groups?.createAccounts && identity.username && !(await hasAccount(identity))) {
        const refused = await createAccount(identity, deps.groups, (reason, why) => refuse(null, reason, why));
        if (refused) return refused;
      }
      const found = await deps.auth.ssoAccount(identity, clientIp);
      if (!found.ok || !deps.groups) return found;
      const user = await deps.accounts.get(found.userId);
      const access = accessFromGroups(deps.groups, groups, user.role);
      if (!access.ok) return refuse(user, 'no-access', identity.groups === null ? `${access.why}: ${noClaim(deps.groups.claim)}` : access.why);
      const patch: AccountPatch = {};
      if (access.role && access.role !== user.role) patch.role = access.role;
      if (access.zones && access.zones.join('\n') !== [...user.zones].sort().join('\n')) patch.zones = access.zones;
      // A unit is MaskWatch's to give (shifts change it): the directory alone cannot make a working officer.
      if ((patch.role ?? user.role) === 'OFFICER' && !(user.role === 'OFFICER' && user.unitId)) {
        return refuse(user, 'needs-unit', 'the directory makes them an officer, and they have no patrol unit');
      }
      if (patch.role || patch.zones) {
        try {
          await deps.accounts.update(user.id, patch, { type: 'SYSTEM', clientIp, source: 'directory' });
        } catch (err) {
          // e.g. the last enabled admin, whom the directory would demote.
          if (err instanceof ServiceError) return refuse(user, 'no-access', err.message);
          throw err;
        }
      }
      return found;
    },
  };
}
