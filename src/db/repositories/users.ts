import type { PrismaClient, User } from '../generated/sqlite/client.ts';
import type { Role } from '../../contracts/vocabulary.ts';

export type UserRow = User;

export interface NewUser {
  username: string;
  passwordHash: string;
  role: Role;
  unitId?: string | null;
}

export function createUserRepository(prisma: PrismaClient) {
  return {
    create(data: NewUser): Promise<UserRow> {
      return prisma.user.create({ data });
    },
    findByUsername(username: string): Promise<UserRow | null> {
      return prisma.user.findUnique({ where: { username } });
    },
    findById(id: string): Promise<UserRow | null> {
      return prisma.user.findUnique({ where: { id } });
    },
    list(): Promise<UserRow[]> {
      return prisma.user.findMany({ orderBy: { username: 'asc' } });
    },
    /** Every user with their unit's call sign (CLI listing). */
    async listWithUnits(): Promise<(UserRow & { unitCallSign: string | null })[]> {
      const rows = await prisma.user.findMany({ orderBy: { username: 'asc' }, include: { unit: { select: { callSign: true } } } });
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
  };
}

export type UserRepository = ReturnType<typeof createUserRepository>;
