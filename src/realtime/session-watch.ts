/**
 * Sockets follow their session. A socket is authenticated once, at the
 * handshake; afterwards its session can expire, be revoked (logout, renewal,
 * an admin's revoke, disable, delete, password reset) or its user's role or
 * unit can change. Two mechanisms end such sockets:
 *
 * 1. At once: account changes call `disconnectUser`, which reaches the user's
 *    room on every API instance through the Socket.IO Redis adapter (or, from
 *    the CLI, the Redis emitter).
 * 2. Always: every `intervalMs` each instance re-checks the sessions of its own
 *    sockets in one query and disconnects those no longer valid or whose role
 *    or unit changed (the client reconnects and joins its new rooms). This
 *    catches expiry, changes made while Redis was away, and anything (1) missed.
 *
 * A page that renewed its token (POST /api/v1/auth/refresh revokes the old
 * one) re-authenticates its socket in place with `session.renew`, so it keeps
 * its connection; a socket that does not is dropped by (2) and reconnects with
 * the page's current token.
 */
import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { parseZones, type AuthUser } from '../auth/roles.ts';
import type { SessionState } from '../db/repositories/sessions.ts';
import type { SessionSockets } from '../services/accounts.ts';
import { socketIoRedisKey } from './channel.ts';
import type { ServerToClientEvents } from './events.ts';
import type { RealtimeServer } from './server.ts';

/** Every socket of a user joins this room, so account changes reach all their sockets on every instance. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}

function sessionRoomOf(sessionId: string): string {
  return `session:${sessionId}`;
}

/** Account changes made in an API process: through its Socket.IO server (the Redis adapter fans out). */
export function ioSessionSockets(io: () => RealtimeServer | undefined): SessionSockets {
  return {
    async disconnectUser(userId, exceptSessionId) {
      const server = io();
      if (!server) return;
      const target = server.in(userRoom(userId));
      (exceptSessionId ? target.except(sessionRoomOf(exceptSessionId)) : target).disconnectSockets(true);
    },
    async disconnectSession(sessionId) {
      io()?.in(sessionRoomOf(sessionId)).disconnectSockets(true);
    },
  };
}

/** Account changes made by the CLI: through Redis to every API instance's sockets. Resolves once Redis took it. */
export function emitterSessionSockets(redis: Pick<Redis, 'publish'>, queuePrefix: string): SessionSockets {
  // The emitter drops publish()'s promise: keep it, so a failure reaches the caller instead of being unhandled.
  let pending: Promise<unknown> | null = null;
  const client = {
    publish(channel: string, message: string | Buffer) {
      pending = redis.publish(channel, message);
      return pending;
    },
  };
  const emitter = new Emitter<ServerToClientEvents>(client, { key: socketIoRedisKey(queuePrefix) });
  return {
    async disconnectUser(userId, exceptSessionId) {
      pending = null;
      const target = emitter.in(userRoom(userId));
      (exceptSessionId ? target.except(sessionRoomOf(exceptSessionId)) : target).disconnectSockets(true);
      await (pending as Promise<unknown> | null);
    },
    async disconnectSession(sessionId) {
      pending = null;
      emitter.in(sessionRoomOf(sessionId)).disconnectSockets(true);
      await (pending as Promise<unknown> | null);
    },
  };
}

const sameZones = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((z) => b.includes(z));

/** Why a socket must go, or null when its session still holds it. */
export function socketDropReason(user: AuthUser, state: SessionState | undefined, now: Date): string | null {
  if (user.sessionExpiresAt && user.sessionExpiresAt <= now) return 'session expired';
  if (!state) return 'session unknown';
  if (state.revokedAt) return 'session revoked';
  if (state.expiresAt <= now) return 'session expired';
  if (state.user.disabled) return 'user disabled';
  if (state.user.role !== user.role || state.user.unitId !== user.unitId || !sameZones(parseZones(state.user.zones), user.zones)) return 'role, unit or zones changed';
  if (state.user.mustChangePassword && state.signInMethod !== 'sso') return 'password change required';
  return null;
}

export interface SessionWatchOptions {
  io: RealtimeServer;
  /** The state of these sessions (one query; unknown ids left out). */
  states(sessionIds: readonly string[]): Promise<SessionState[]>;
  /** Checks a renewed token (same as the handshake). */
  authenticate(token: string): Promise<AuthUser | null>;
  intervalMs: number;
  logger: Logger;
  now?: () => Date;
}

const CHUNK = 500;
/** A socket may re-authenticate at most this often (each costs a database lookup). */
const RENEW_MIN_INTERVAL_MS = 1000;

export function watchSessions(opts: SessionWatchOptions): { sweep(): Promise<number>; stop(): void } {
  const now = opts.now ?? (() => new Date());
  const { io, logger } = opts;

  io.on('connection', (socket) => {
    let lastRenew = 0;
    socket.on('session.renew', (token, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      if (typeof token !== 'string' || Date.now() - lastRenew < RENEW_MIN_INTERVAL_MS) return reply({ ok: false });
      lastRenew = Date.now();
      const current = socket.data.user;
      opts.authenticate(token).then(
        (next) => {
          // Only the same user with the same access may continue on this socket; anything else reconnects.
          if (!next || !socket.connected || next.id !== current.id || next.role !== current.role || next.unitId !== current.unitId || !sameZones(next.zones, current.zones) || next.mustChangePassword || next.mfaSetupRequired || next.securityKeySetupRequired) {
            return reply({ ok: false });
          }
          if (next.sessionId !== current.sessionId) {
            void socket.leave(sessionRoomOf(current.sessionId));
            void socket.join(sessionRoomOf(next.sessionId));
          }
          socket.data.user = next;
          reply({ ok: true });
        },
        (err: unknown) => {
          logger.warn({ err }, 'socket session renewal failed');
          reply({ ok: false });
        },
      );
    });
  });

  let running: Promise<number> | null = null;
  let lastErrorLog = 0;

  async function sweepOnce(): Promise<number> {
    const sockets = [...io.of('/').sockets.values()].filter((s) => s.data.user);
    if (sockets.length === 0) return 0;
    // The session each socket had when we asked: one that renews meanwhile is judged next time.
    const asked = new Map(sockets.map((s) => [s.id, s.data.user.sessionId]));
    const ids = [...new Set(asked.values())];
    const states = new Map<string, SessionState>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      for (const st of await opts.states(ids.slice(i, i + CHUNK))) states.set(st.id, st);
    }
    const t = now();
    let dropped = 0;
    for (const socket of sockets) {
      const user = socket.data.user;
      if (!socket.connected || asked.get(socket.id) !== user.sessionId) continue;
      const reason = socketDropReason(user, states.get(user.sessionId), t);
      if (!reason) continue;
      logger.info({ userId: user.id, socketId: socket.id, reason }, 'socket disconnected: its session no longer holds');
      socket.disconnect(true);
      dropped += 1;
    }
    return dropped;
  }

  function sweep(): Promise<number> {
    running ??= sweepOnce().finally(() => {
      running = null;
    });
    return running;
  }

  const timer = setInterval(() => {
    sweep().catch((err: unknown) => {
      // Sockets stay while the database cannot answer: the API refuses their tokens' requests anyway.
      if (Date.now() - lastErrorLog > 10_000) {
        lastErrorLog = Date.now();
        logger.warn({ err }, 'socket session re-check failed');
      }
    });
  }, opts.intervalMs);
  timer.unref();

  return {
    sweep,
    stop() {
      clearInterval(timer);
    },
  };
}
