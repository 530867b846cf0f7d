/**
 * Single sign-on's account step: the account a directory identity signs on to (auth service), then, when
 * the directory's groups give access (MASKWATCH_SSO_ROLE_GROUPS, MASKWATCH_SSO_ZONE_GROUPS), the role and
 * zones its groups give, applied as an admin's change would be: audited, and ending the sessions opened
 * with the old access. A person moved to another precinct, or out of MaskWatch's groups, gets the new
 * access at their next sign-on; MaskWatch cannot see the directory in between, which is why single sign-on
 * sessions end MASKWATCH_SSO_SESSION_HOURS after the sign-on.
 */
import type { AuthService, SsoAccountOutcome, SsoIdentity } from '../auth/service.ts';
import { accessFromGroups, type DirectoryGroupMap } from '../auth/directory-groups.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { AccountPatch } from '../contracts/api.ts';
import type { AccountService } from './accounts.ts';
import { ServiceError } from './errors.ts';

/** `no-access`: no group of the directory gives access; `needs-unit`: the directory makes them an officer, and they have no unit yet. */
export type SignOnOutcome = SsoAccountOutcome | { ok: false; reason: 'no-access' | 'needs-unit' };

export interface DirectorySignOnDeps {
  auth: Pick<AuthService, 'ssoAccount'>;
  accounts: Pick<AccountService, 'get' | 'update'>;
  audit: AuditRepository;
  /** null: roles and zones are MaskWatch's alone. */
  groups: DirectoryGroupMap | null;
}

/** At most this many of a person's groups go into an audit record (a directory may send hundreds). */
const AUDITED_GROUPS = 50;

export function createDirectorySignOn(deps: DirectorySignOnDeps) {
  return {
    async account(identity: SsoIdentity, clientIp: string): Promise<SignOnOutcome> {
      const found = await deps.auth.ssoAccount(identity, clientIp);
      if (!found.ok || !deps.groups) return found;
      const user = await deps.accounts.get(found.userId);
      const groups = identity.groups ?? [];
      const refuse = async (reason: 'no-access' | 'needs-unit', why: string): Promise<SignOnOutcome> => {
        await deps.audit.record({
          actorType: 'SYSTEM',
          actorId: null,
          actorRole: null,
          action: 'auth.login_failed',
          subjectType: 'User',
          subjectId: user.id,
          details: { signInMethod: 'sso', username: user.username, clientIp, ssoSubject: identity.subject, groups: groups.slice(0, AUDITED_GROUPS), reason: why },
        });
        return { ok: false, reason };
      };

      const access = accessFromGroups(deps.groups, groups, user.role);
      if (!access.ok) return refuse('no-access', access.why);
      const patch: AccountPatch = {};
      if (access.role && access.role !== user.role) patch.role = access.role;
      if (access.zones && access.zones.join('\n') !== [...user.zones].sort().join('\n')) patch.zones = access.zones;
      // A unit is MaskWatch's to give (shifts change it): the directory alone cannot make a working officer.
      if ((patch.role ?? user.role) === 'OFFICER' && !(user.role === 'OFFICER' && user.unitId)) {
        return refuse('needs-unit', 'the directory makes them an officer, and they have no patrol unit');
      }
      if (patch.role || patch.zones) {
        try {
          await deps.accounts.update(user.id, patch, { type: 'SYSTEM', clientIp, source: 'directory' });
        } catch (err) {
          // e.g. the last enabled admin, whom the directory would demote.
          if (err instanceof ServiceError) return refuse('no-access', err.message);
          throw err;
        }
      }
      return found;
    },
  };
}
