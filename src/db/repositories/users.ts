import type { PrismaClient, User } from '../generated/sqlite/client.ts';
import { isUniqueViolation } from '../unique.ts';
import type { Role } from '../../contracts/vocabulary.ts';

export type UserRow = User;

export interface NewUser {
  username: string;
  passwordHash: string;
  role: Role;
  unitId?: string | null;
  /** JSON array (src/auth/roles.ts parseZones); null: every zone. */
  zones?: string | null;
  mustChangePassword?: boolean;
  /** Linked to this directory identity from the start (an account made by single sign-on). */
  ssoSubject?: string | null;
}

/** What account administration may change on a user row. */
export interface UserPatch {
  role?: Role;
  unitId?: string | null;
  zones?: string | null;
  disabled?: boolean;
  passwordHash?: string;
  mustChangePassword?: boolean;
}

export function createUserRepository(prisma: PrismaClient) {
  return {
    /** null: the username (or directory subject) is taken, by a create that ran at the same moment. */
    async create(data: NewUser): Promise<UserRow | null> {
      try {
        return await prisma.user.create({ data });
      } catch (err) {
        if (isUniqueViolation(err)) return null;
        throw err;
      }
    },
    findByUsername(username: string): Promise<UserRow | null> {
      return prisma.user.findUnique({ where: { username } });
    },
    /**
     * The existing username equal to `username` but for letter case, if any: look-alike names ("Admin" beside
     * "admin") are refused at creation. Usernames are ASCII and accounts few, so they are compared here.
     */
    async usernameFoldedLike(username: string): Promise<string | null> {
      const folded = username.toLowerCase();
      const rows = await prisma.user.findMany({ where: { deletedAt: null }, select: { username: true } });
      return rows.find((r) => r.username.toLowerCase() === folded)?.username ?? null;
    },
    findById(id: string): Promise<UserRow | null> {
      return prisma.user.findUnique({ where: { id } });
    },
    /** Usernames by id, deleted (anonymised) accounts included: for naming the actors of audit events. */
    async usernames(ids: readonly string[]): Promise<Map<string, string>> {
      if (ids.length === 0) return new Map();
      const rows = await prisma.user.findMany({ where: { id: { in: [...ids] } }, select: { id: true, username: true } });
      return new Map(rows.map((r) => [r.id, r.username]));
    },
    /** Users that exist (deleted, anonymised accounts are left out). */
    list(): Promise<UserRow[]> {
      return prisma.user.findMany({ where: { deletedAt: null }, orderBy: { username: 'asc' } });
    },
    /** Every user with their unit's call sign (CLI listing). */
    async listWithUnits(): Promise<(UserRow & { unitCallSign: string | null })[]> {
      const rows = await prisma.user.findMany({ where: { deletedAt: null }, orderBy: { username: 'asc' }, include: { unit: { select: { callSign: true } } } });
      return rows.map(({ unit, ...u }) => ({ ...u, unitCallSign: unit?.callSign ?? null }));
    },
    count(): Promise<number> {
      return prisma.user.count();
    },
    async recordFailedLogin(id: string, lockUntil: Date | null): Promise<void> {
      await prisma.user.update({
        where: { id },
        data: { failedLogins: { increment: 1 }, ...(lockUntil ? { lockedUntil: lockUntil, failedLogins: 0 } : {}) },
      });
    },
    async clearFailedLogins(id: string): Promise<void> {
      await prisma.user.update({ where: { id }, data: { failedLogins: 0, lockedUntil: null } });
    },
    /** The unit id of a call sign, or null when no such unit exists. */
    async unitIdByCallSign(callSign: string): Promise<string | null> {
      const unit = await prisma.patrolUnit.findUnique({ where: { callSign }, select: { id: true } });
      return unit?.id ?? null;
    },
    async unitExists(id: string): Promise<boolean> {
      return (await prisma.patrolUnit.count({ where: { id } })) > 0;
    },
    update(id: string, patch: UserPatch): Promise<UserRow> {
      return prisma.user.update({ where: { id }, data: patch });
    },
    /** A password set by an admin or by its owner: also ends any login lock. */
    setPassword(id: string, passwordHash: string, mustChangePassword: boolean): Promise<UserRow> {
      return prisma.user.update({ where: { id }, data: { passwordHash, mustChangePassword, failedLogins: 0, lockedUntil: null } });
    },
    /** Admin accounts that exist, disabled or not (deleted, anonymised ones are left out). */
    countAdmins(): Promise<number> {
      return prisma.user.count({ where: { role: 'ADMIN', deletedAt: null } });
    },
    /** Enabled, not deleted admins other than `exceptId` (nobody may remove the last one). */
    countActiveAdmins(exceptId: string): Promise<number> {
      return prisma.user.count({ where: { role: 'ADMIN', disabled: false, deletedAt: null, id: { not: exceptId } } });
    },
    /** A sealed TOTP secret shown for enrolment (null: none pending). */
    async setTotpPending(id: string, sealedSecret: string | null): Promise<void> {
      await prisma.user.update({ where: { id }, data: { totpPendingSecret: sealedSecret } });
    },
    /** Enrolment confirmed by a first code: the pending secret becomes the account's, that code's step used. */
    async enableTotp(id: string, sealedSecret: string, step: number, at: Date): Promise<void> {
      await prisma.user.update({ where: { id }, data: { totpSecret: sealedSecret, totpPendingSecret: null, totpEnabledAt: at, totpLastStep: step } });
    },
    /** Removes the second factor, its recovery codes and security keys. */
    async clearTotp(id: string): Promise<void> {
      await prisma.$transaction([
        prisma.mfaRecoveryCode.deleteMany({ where: { userId: id } }),
        prisma.securityKey.deleteMany({ where: { userId: id } }),
        prisma.user.update({ where: { id }, data: { totpSecret: null, totpPendingSecret: null, totpEnabledAt: null, totpLastStep: null } }),
      ]);
    },
    /** A new set of recovery codes (hashes) replaces every earlier one, used or not. */
    async replaceRecoveryCodes(userId: string, codeHashes: readonly string[]): Promise<void> {
      await prisma.$transaction([
        prisma.mfaRecoveryCode.deleteMany({ where: { userId } }),
        prisma.mfaRecoveryCode.createMany({ data: codeHashes.map((codeHash) => ({ userId, codeHash })) }),
      ]);
    },
    /** Marks an unused recovery code used: true for the one request that did (a conditional update). */
    async useRecoveryCode(userId: string, codeHash: string, at: Date): Promise<boolean> {
      const { count } = await prisma.mfaRecoveryCode.updateMany({ where: { userId, codeHash, usedAt: null }, data: { usedAt: at } });
      return count === 1;
    },
    recoveryCodesLeft(userId: string): Promise<number> {
      return prisma.mfaRecoveryCode.count({ where: { userId, usedAt: null } });
    },
    /**
     * Records `step` as used, only if it is later than the last one: true for the first request to use it.
     * One conditional update, so two logins racing with the same code cannot both pass.
     */
    async consumeTotpStep(id: string, step: number): Promise<boolean> {
      const { count } = await prisma.user.updateMany({
        where: { id, totpEnabledAt: { not: null }, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] },
        data: { totpLastStep: step },
      });
      return count === 1;
    },
    /**
     * Deletes an account without deleting the row: the name, password hash and
     * unit go, the id stays (AuditEvent rows refer to it; nothing cascades).
     */
    async anonymise(id: string, at: Date, placeholderName: string, unusableHash: string): Promise<UserRow> {
      await prisma.mfaRecoveryCode.deleteMany({ where: { userId: id } });
      await prisma.securityKey.deleteMany({ where: { userId: id } });
      return prisma.user.update({
        where: { id },
        data: {
          username: placeholderName,
          passwordHash: unusableHash,
          unitId: null,
          disabled: true,
          mustChangePassword: false,
          deletedAt: at,
          totpSecret: null,
          totpPendingSecret: null,
          totpEnabledAt: null,
          totpLastStep: null,
          ssoSubject: null,
        },
      });
    },
    async touchSignIn(id: string, at: Date): Promise<void> {
      await prisma.user.update({ where: { id }, data: { lastSignInAt: at } });
    },
    /** Enabled accounts without a sign-in since `cutoff` (never signed in: created before it). */
    inactiveSince(cutoff: Date): Promise<UserRow[]> {
      return prisma.user.findMany({
        where: { disabled: false, deletedAt: null, OR: [{ lastSignInAt: { lt: cutoff } }, { lastSignInAt: null, createdAt: { lt: cutoff } }] },
        orderBy: { createdAt: 'asc' },
      });
    },
    findBySsoSubject(subject: string): Promise<UserRow | null> {
      return prisma.user.findUnique({ where: { ssoSubject: subject } });
    },
    async unlinkSsoSubject(id: string): Promise<void> {
      await prisma.user.update({ where: { id }, data: { ssoSubject: null } });
    },
    /** Links an account to a directory subject once: false when it is linked already (to any subject). */
    async linkSsoSubject(id: string, subject: string): Promise<boolean> {
      const { count } = await prisma.user.updateMany({ where: { id, ssoSubject: null }, data: { ssoSubject: subject } });
      return count === 1;
    },
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
