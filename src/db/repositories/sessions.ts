import type { PrismaClient } from '../generated/sqlite/client.ts';
import type { Role, SignInMethod } from '../../contracts/vocabulary.ts';

export interface SessionWithUser {
  id: string;
  signInMethod: string;
  signedOnAt: Date | null;
  expiresAt: Date;
  revokedAt: Date | null;
  user: { id: string; username: string; role: Role; unitId: string | null; zones: string | null; disabled: boolean; mustChangePassword: boolean; totpEnabledAt: Date | null };
}

/** What a socket's periodic re-check needs to know about its session. */
export interface SessionState {
  id: string;
  signInMethod: string;
  expiresAt: Date;
  revokedAt: Date | null;
  user: { id: string; role: Role; unitId: string | null; zones: string | null; disabled: boolean; mustChangePassword: boolean };
}

/** Where a session was opened from (the login's or renewal's request). */
export interface SessionOrigin {
  clientIp?: string | null;
  userAgent?: string | null;
  /** Default `password`; a renewal keeps its session's. */
  signInMethod?: SignInMethod;
  /** Single sign-on: when the directory let the user in (a renewal keeps it). */
  signedOnAt?: Date | null;
}

/** A session as its user sees it in their list. */
export interface SessionRow {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  clientIp: string | null;
  userAgent: string | null;
  signInMethod: string;
}

export function createSessionRepository(prisma: PrismaClient) {
  return {
    async create(userId: string, tokenHash: string, expiresAt: Date, origin: SessionOrigin = {}): Promise<{ id: string }> {
      return prisma.session.create({
        data: {
          userId,
          tokenHash,
          expiresAt,
          clientIp: origin.clientIp ?? null,
          userAgent: origin.userAgent?.slice(0, 300) ?? null,
          signInMethod: origin.signInMethod ?? 'password',
          signedOnAt: origin.signedOnAt ?? null,
        },
        select: { id: true },
      });
    },
    /** A user's sessions that still let them in, newest first. */
    active(userId: string, now: Date): Promise<SessionRow[]> {
      return prisma.session.findMany({
        where: { userId, revokedAt: null, expiresAt: { gt: now } },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        select: { id: true, createdAt: true, expiresAt: true, clientIp: true, userAgent: true, signInMethod: true },
      });
    },
    /** Revokes one live session of a user; false when it is not theirs, unknown or already ended. */
    async revokeOne(userId: string, sessionId: string, at: Date): Promise<boolean> {
      const r = await prisma.session.updateMany({ where: { id: sessionId, userId, revokedAt: null, expiresAt: { gt: at } }, data: { revokedAt: at } });
      return r.count === 1;
    },
    findByTokenHash(tokenHash: string): Promise<SessionWithUser | null> {
      return prisma.session.findUnique({
        where: { tokenHash },
        select: {
          id: true,
          signInMethod: true,
          signedOnAt: true,
          expiresAt: true,
          revokedAt: true,
          user: { select: { id: true, username: true, role: true, unitId: true, zones: true, disabled: true, mustChangePassword: true, totpEnabledAt: true } },
        },
      });
    },
    /** Revokes a session; false if it was unknown or already revoked. */
    async revoke(tokenHash: string, at: Date): Promise<boolean> {
      const r = await prisma.session.updateMany({ where: { tokenHash, revokedAt: null }, data: { revokedAt: at } });
      return r.count > 0;
    },
    /** Revokes every live session of a user, except one (the caller's own); how many. */
    async revokeAllOfUser(userId: string, at: Date, exceptSessionId?: string): Promise<number> {
      const r = await prisma.session.updateMany({
        where: { userId, revokedAt: null, ...(exceptSessionId ? { id: { not: exceptSessionId } } : {}) },
        data: { revokedAt: at },
      });
      return r.count;
    },
    /** The current state of these sessions (unknown ids are left out). */
    states(ids: readonly string[]): Promise<SessionState[]> {
      return prisma.session.findMany({
        where: { id: { in: [...ids] } },
        select: {
          id: true,
          signInMethod: true,
          expiresAt: true,
          revokedAt: true,
          user: { select: { id: true, role: true, unitId: true, zones: true, disabled: true, mustChangePassword: true } },
        },
      });
    },
    /** Deletes sessions expired before `before`, so the table does not grow forever. */
    async deleteExpired(before: Date): Promise<number> {
      const r = await prisma.session.deleteMany({ where: { expiresAt: { lt: before } } });
      return r.count;
    },
  };
}

export type SessionRepository = ReturnType<typeof createSessionRepository>;
