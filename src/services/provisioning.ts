/**
 * Provisioning from the agency directory (SCIM 2.0): joiners get an account, leavers lose it the moment the
 * directory says so, not at their next sign-on. Every change goes through the account service, so it is
 * audited (`source: "provisioning"`) and disabling ends the person's sessions and sockets at once.
 *
 * What the directory may do is bounded (MASKWATCH_SCIM_ROLES): it gives and takes only those roles, and
 * never makes an officer, whose patrol unit is MaskWatch's to give. It may disable, enable and delete any
 * account but the last enabled admin, so that someone who left loses their officer or admin account too.
 */
import type { AuthService } from '../auth/service.ts';
import { UserInputError } from '../auth/service.ts';
import type { UserRepository, UserRow } from '../db/repositories/users.ts';
import type { Role } from '../contracts/vocabulary.ts';
import { ScimRequestError, type ScimUserChanges } from '../auth/scim.ts';
import { existingUser, type AccountActor, type AccountService } from './accounts.ts';

/** An account as the directory sees it. */
export interface ProvisionedUser {
  id: string;
  userName: string;
  active: boolean;
  role: Role;
  createdAt: Date;
}

export interface ProvisioningDeps {
  users: Pick<UserRepository, 'list' | 'findById' | 'usernameFoldedLike'>;
  accounts: Pick<AccountService, 'update' | 'delete'>;
  auth: Pick<AuthService, 'createUser'>;
  /** The roles the directory may give and take away (MASKWATCH_SCIM_ROLES). */
  roles: readonly Role[];
}

const provisioned = (u: UserRow): ProvisionedUser => ({ id: u.id, userName: u.username, active: !u.disabled, role: u.role as Role, createdAt: u.createdAt });

export function createProvisioningService(deps: ProvisioningDeps) {
  const actor = (clientIp: string): AccountActor => ({ type: 'SYSTEM', clientIp, source: 'provisioning' });

  function mayGive(role: Role, verb: string): void {
    if (!deps.roles.includes(role)) {
      throw new ScimRequestError('invalidValue', `the directory may not ${verb} ${role} (MASKWATCH_SCIM_ROLES allows ${deps.roles.join(', ') || 'none'})`);
    }
  }

  /** Role and enabled state: the only changes the directory makes to an existing account. */
  async function apply(user: UserRow, changes: ScimUserChanges, clientIp: string): Promise<ProvisionedUser> {
    if (changes.userName !== undefined && changes.userName.toLowerCase() !== user.username.toLowerCase()) {
      throw new ScimRequestError('mutability', `MaskWatch usernames are not renamed (${user.username}): create the new name's account, delete this one`);
    }
    const role = changes.role !== undefined && changes.role !== user.role ? changes.role : undefined;
    if (role) {
      mayGive(user.role as Role, 'take away the role');
      mayGive(role, 'give the role');
    }
    const enabled = changes.active !== undefined && changes.active === user.disabled ? changes.active : undefined;
    if (role === undefined && enabled === undefined) return provisioned(user);
    await deps.accounts.update(user.id, { ...(role ? { role } : {}), ...(enabled !== undefined ? { enabled } : {}) }, actor(clientIp));
    return provisioned(await existingUser(deps.users, user.id));
  }

  return {
    /** Accounts, by username (any case) when one is given; a page of them, starting at the 1-based `startIndex`. */
    async list(query: { userName?: string; startIndex: number; count: number }): Promise<{ total: number; items: ProvisionedUser[] }> {
      let rows = await deps.users.list();
      if (query.userName !== undefined) {
        const folded = query.userName.toLowerCase();
        rows = rows.filter((u) => u.username.toLowerCase() === folded);
      }
      return { total: rows.length, items: rows.slice(query.startIndex - 1, query.startIndex - 1 + query.count).map(provisioned) };
    },

    async get(id: string): Promise<ProvisionedUser> {
      return provisioned(await existingUser(deps.users, id));
    },

    /** A joiner: an account with the role the directory assigns, signing in through the directory. */
    async create(changes: ScimUserChanges, clientIp: string): Promise<ProvisionedUser> {
      if (!changes.userName) throw new ScimRequestError('invalidValue', 'userName is required');
      if (!changes.role) throw new ScimRequestError('invalidValue', `roles must give the account a role (${deps.roles.join(', ')})`);
      mayGive(changes.role, 'give the role');
      const taken = await deps.users.usernameFoldedLike(changes.userName);
      if (taken) throw new ScimRequestError('uniqueness', `user "${taken}" already exists`);
      try {
        const created = await deps.auth.createUser({ username: changes.userName, password: null, role: changes.role }, actor(clientIp));
        if (changes.active === false) await deps.accounts.update(created.id, { enabled: false }, actor(clientIp));
        return provisioned(await existingUser(deps.users, created.id));
      } catch (err) {
        if (err instanceof UserInputError) throw new ScimRequestError(err.message.includes('already exists') ? 'uniqueness' : 'invalidValue', err.message);
        throw err;
      }
    },

    /** PATCH, and PUT (whose omitted `active` means enabled, as a full replacement says). */
    async change(id: string, changes: ScimUserChanges, clientIp: string): Promise<ProvisionedUser> {
      return apply(await existingUser(deps.users, id), changes, clientIp);
    },

    /** A leaver removed from the directory: the account is deleted (anonymised; its audit trail stays). */
    async delete(id: string, clientIp: string): Promise<void> {
      await deps.accounts.delete(id, actor(clientIp));
    },
  };
}

export type ProvisioningService = ReturnType<typeof createProvisioningService>;

