/**
 * User administration: listing, and creating users (through the auth service,
 * which hashes the password and audits). The CLI creates an officer's unit on
 * the fly; the API expects it to exist.
 */
import { UserInputError, type AuthService } from '../auth/service.ts';
import type { UnitRepository } from '../db/repositories/units.ts';
import type { UserRepository } from '../db/repositories/users.ts';
import type { SecurityKeyRepository } from '../db/repositories/security-keys.ts';
import type { Role } from '../contracts/vocabulary.ts';
import { parseZones } from '../auth/roles.ts';
import type { UserSummary } from '../contracts/api.ts';
import { ServiceError } from './errors.ts';
import { accountView } from './accounts.ts';

export type { UserSummary };

export function createUserService(deps: {
  users: UserRepository;
  units: UnitRepository;
  keys: Pick<SecurityKeyRepository, 'countsByUser'>;
  auth: Pick<AuthService, 'createUser'>;
  /** Roles that must sign in with a security key (MASKWATCH_SECURITY_KEY_REQUIRED). */
  securityKeyRoles: readonly Role[];
}) {
  return {
    async list(): Promise<UserSummary[]> {
      const [users, keys] = await Promise.all([deps.users.list(), deps.keys.countsByUser()]);
      return users.map((u) => accountView(u, keys.get(u.id) ?? 0, deps.securityKeyRoles));
    },

    /** Every user with their unit's call sign, zones, state, sign-in factors and last sign-in (CLI; `users list --json` prints these fields). */
    async listWithUnits(): Promise<
      {
        username: string;
        role: Role;
        unitCallSign: string | null;
        zones: string[];
        disabled: boolean;
        mfaEnabled: boolean;
        ssoLinked: boolean;
        securityKeys: number;
        securityKeyRequired: boolean;
        lastSignInAt: string | null;
        createdAt: string;
      }[]
    > {
      const keys = await deps.keys.countsByUser();
      return (await deps.users.listWithUnits()).map((u) => ({
        username: u.username,
        role: u.role,
        unitCallSign: u.unitCallSign,
        zones: parseZones(u.zones),
        disabled: u.disabled,
        mfaEnabled: u.totpEnabledAt !== null,
        ssoLinked: u.ssoSubject !== null,
        securityKeys: keys.get(u.id) ?? 0,
        securityKeyRequired: deps.securityKeyRoles.includes(u.role),
        lastSignInAt: u.lastSignInAt?.toISOString() ?? null,
        createdAt: u.createdAt.toISOString(),
      }));
    },

    /** Creates the unit of a call sign if it does not exist; true when it was created. */
    async ensureUnit(callSign: string): Promise<boolean> {
      return (await deps.units.ensureByCallSign(callSign)).created;
    },

    /** Refusals (bad input, taken name, unknown unit) are ServiceErrors with code invalid-user. */
    async create(...args: Parameters<AuthService['createUser']>): Promise<UserSummary> {
      try {
        const u = await deps.auth.createUser(...args);
        return {
          id: u.id,
          username: u.username,
          role: u.role,
          unitId: u.unitId,
          zones: u.zones,
          enabled: true,
          mustChangePassword: false,
          mfaEnabled: false,
          ssoLinked: false,
          lastSignInAt: null,
          securityKeys: 0,
          securityKeyRequired: deps.securityKeyRoles.includes(u.role),
        };
      } catch (err) {
        if (err instanceof UserInputError) {
          throw new ServiceError(err.message.includes('already exists') ? 'CONFLICT' : 'INVALID', err.message, 'invalid-user');
        }
        throw err;
      }
    },
  };
}

export type UserService = ReturnType<typeof createUserService>;
