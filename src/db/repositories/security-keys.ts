import type { PrismaClient, SecurityKey } from '../generated/sqlite/client.ts';

export type SecurityKeyRow = SecurityKey;

export interface NewSecurityKey {
  userId: string;
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  transports: readonly string[];
  name: string;
}

export function createSecurityKeyRepository(prisma: PrismaClient) {
  return {
    listFor(userId: string): Promise<SecurityKeyRow[]> {
      return prisma.securityKey.findMany({ where: { userId }, orderBy: { createdAt: 'asc' } });
    },
    countFor(userId: string): Promise<number> {
      return prisma.securityKey.count({ where: { userId } });
    },
    /** How many keys each user has (users without keys are absent). */
    async countsByUser(): Promise<Map<string, number>> {
      const rows = await prisma.securityKey.groupBy({ by: ['userId'], _count: { _all: true } });
      return new Map(rows.map((r) => [r.userId, r._count._all]));
    },
    findByCredentialId(credentialId: string): Promise<SecurityKeyRow | null> {
      return prisma.securityKey.findUnique({ where: { credentialId } });
    },
    add(key: NewSecurityKey): Promise<SecurityKeyRow> {
      const { transports, publicKey, signCount, ...rest } = key;
      return prisma.securityKey.create({
        data: { ...rest, publicKey: Uint8Array.from(publicKey), signCount: BigInt(signCount), transports: transports.join(',') },
      });
    },
    /** False when the user has no such key. */
    async remove(userId: string, id: string): Promise<boolean> {
      const { count } = await prisma.securityKey.deleteMany({ where: { id, userId } });
      return count === 1;
    },
    /** Records a use: true for the one request that moved the counter on from `previous` (a conditional update). */
    async recordUse(id: string, previous: bigint, next: number, at: Date): Promise<boolean> {
      const { count } = await prisma.securityKey.updateMany({ where: { id, signCount: previous }, data: { signCount: BigInt(next), lastUsedAt: at } });
      return count === 1;
    },
  };
}

export type SecurityKeyRepository = ReturnType<typeof createSecurityKeyRepository>;
