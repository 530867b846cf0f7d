import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { alertScopeOf, type AuthUser } from '../auth/roles.ts';
import type { ClientToServerEvents, ServerToClientEvents } from './events.ts';
import { DISPATCH_ROOM, UNIT_BOARD_ROOM, unitRoom, zoneRoom } from './rooms.ts';
import { socketIoRedisKey } from './channel.ts';
import { createConnectionLimit, type ConnectionLimitOptions } from './connection-limit.ts';
import { handleSubscriptionRejections } from './subscriber-rejections.ts';
import { redisOptionsFromUrl } from '../queue/redis-options.ts';
import { onceEvery } from '../system/logger.ts';
import { userRoom, watchSessions, type SessionWatchOptions } from './session-watch.ts';

export interface SocketData {
  user: AuthUser;
}

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface RealtimeOptions {
  httpServer: HttpServer;
  redisUrl: string;
  queuePrefix: string;
  authenticate(token: string): Promise<AuthUser | null>;
  logger: Logger;
  /** Allowed browser origins (CORS); same-origin only when omitted. */
  corsOrigins?: string[];
  /** New connections per client IP per window (0 / omitted = no limit). */
  connectionLimit?: ConnectionLimitOptions;
  /** Re-check of every socket's session (expiry, revocation, role/unit change); see session-watch.ts. */
  sessionWatch?: Pick<SessionWatchOptions, 'states' | 'intervalMs' | 'now'>;
}

/** Room of one login session, so logout can disconnect that session's sockets on every instance. */
export function sessionRoom(sessionId: string): string {
  return `session:${sessionId}`;
}

/** The rooms a user's socket joins: every alert for admins and dispatchers without zones, their zones' for the others, own unit only for officers. */
export function roomsFor(user: Pick<AuthUser, 'role' | 'unitId' | 'zones' | 'sessionId'>): string[] {
  const rooms = [sessionRoom(user.sessionId)];
  if (user.role === 'OFFICER') {
    if (user.unitId) rooms.push(unitRoom(user.unitId));
  } else {
    const { zones } = alertScopeOf(user);
    rooms.push(UNIT_BOARD_ROOM, ...(zones ? zones.map(zoneRoom) : [DISPATCH_ROOM]));
  }
  return rooms;
}

export interface Realtime {
  io: RealtimeServer;
  /** Resolves once the adapter's Redis subscriber is connected (events from other instances can arrive). */
  ready(timeoutMs?: number): Promise<void>;
  /** Runs the sockets' session re-check now (it also runs every sessionWatch.intervalMs); how many were dropped. */
  checkSessions(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Socket.IO on the API's HTTP server, with the Redis adapter so an event emitted
 * anywhere (another API instance, a worker's redis-emitter) reaches every socket.
 */
/** How long in-flight requests get to finish when the server closes. */
const CLOSE_GRACE_MS = 2_000;

export function createRealtimeServer(opts: RealtimeOptions): Realtime {
  const pub = new Redis({ ...redisOptionsFromUrl(opts.redisUrl), maxRetriesPerRequest: null });
  const sub = pub.duplicate();
  handleSubscriptionRejections(sub);
  const onError = onceEvery((err, suppressed) => opts.logger.warn({ err: err.message, suppressed }, 'redis connection error (realtime)'));
  for (const client of [pub, sub]) client.on('error', onError);
  const limit = opts.connectionLimit ? createConnectionLimit(opts.connectionLimit) : null;
  const io: RealtimeServer = new Server(opts.httpServer, {
    serveClient: false,
    allowRequest: limit ? (req, callback) => limit.allowRequest(req, callback) : undefined,
    cors: opts.corsOrigins ? { origin: opts.corsOrigins } : undefined,
    adapter: createAdapter(pub, sub, { key: socketIoRedisKey(opts.queuePrefix) }),
  });

  io.use((socket, next) => {
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0) {
      next(new Error('unauthorized: auth.token is required'));
      return;
    }
    opts.authenticate(token).then(
      (user) => {
        if (!user) return next(new Error('unauthorized: invalid or expired token'));
        // The first admin's setup password opens nothing but the password change (HTTP).
        if (user.mustChangePassword) return next(new Error('forbidden: password change required'));
        if (user.mfaSetupRequired || user.securityKeySetupRequired) return next(new Error('forbidden: two-factor setup required'));
        socket.data.user = user;
        next();
      },
      (err: unknown) => {
        opts.logger.error({ err }, 'socket authentication failed');
        next(new Error('authentication unavailable'));
      },
    );
  });

  io.on('connection', (socket) => {
    const user = socket.data.user;
    void socket.join([...roomsFor(user), userRoom(user.id)]);
    opts.logger.debug({ userId: user.id, role: user.role, socketId: socket.id }, 'socket connected');
  });

  const watch = opts.sessionWatch
    ? watchSessions({ ...opts.sessionWatch, io, authenticate: opts.authenticate, logger: opts.logger })
    : null;

  const subscribed = (client: Redis) =>
    client.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => client.once('ready', () => resolve()));

  return {
    io,
    async ready(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Socket.IO Redis adapter not connected after ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([Promise.all([subscribed(pub), subscribed(sub)]), timeout]).finally(() => clearTimeout(timer));
      // Redis answers a connection's commands in order: once this PING returns, the
      // adapter's earlier (P)SUBSCRIBE calls are in effect.
      await sub.ping();
    },
    checkSessions: () => watch?.sweep() ?? Promise.resolve(0),
    async close() {
      watch?.stop();
      // io.close() also closes the HTTP server; callers then close Fastify, which tolerates that.
      // server.close() waits for every connection, and an agent's keep-alive connection carrying a
      // request now would hold it for the keep-alive timeout: after a short grace, all are closed.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => opts.httpServer.closeAllConnections(), CLOSE_GRACE_MS);
        io.close(() => {
          clearTimeout(force);
          resolve();
        });
      });
      // quit() waits for Redis; when it is away, drop the connection instead of hanging.
      await Promise.allSettled([pub, sub].map((c) => (c.status === 'ready' ? c.quit() : c.disconnect())));
    },
  };
}
