import { chmodSync, mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { createApp } from '../api/app.ts';
import { buildAuthService } from '../auth/wiring.ts';
import type { ReadinessCheck } from '../api/context.ts';
import { createFrameProducer, type FrameProducer } from '../queue/producer.ts';
import { createRealtimeServer, type Realtime } from '../realtime/server.ts';
import { createSessionRepository } from '../db/repositories/sessions.ts';
import { createAlertNotifiers } from '../queue/wiring/alert-notifiers.ts';
import { sharedSettings, startInstanceBeacon } from './instance-beacon.ts';
import { secretKeys } from './secret-key.ts';

export interface ApiInstanceOptions {
  config: Config;
  logger: Logger;
  /** An already open database (tests share one between two instances); opened from config otherwise. */
  db?: Database;
  readinessChecks?: ReadinessCheck[];
  /** Registry for the API's /metrics, when the caller adds metrics of its own (the worker pool's). */
  metricsRegistry?: Registry;
  webRoot?: string;
  /** Create the admin of config.admin if missing (default true). */
  ensureAdmin?: boolean;
  /** The clock of two-factor codes (tests step it through TOTP time steps). */
  totpClock?: () => Date;
}

export interface ApiInstance {
  app: FastifyInstance;
  realtime: Realtime;
  db: Database;
  producer: FrameProducer;
  /** http://host:port actually bound (port 0 → a free port). */
  url: string;
  close(): Promise<void>;
}

/**
 * One API instance from a Config: database (migrated), frame producer, Fastify
 * app, Socket.IO with the Redis adapter, listening. `close()` undoes it all in
 * reverse order (the database only if this call opened it).
 */
export async function startApiInstance(opts: ApiInstanceOptions): Promise<ApiInstance> {
  const { config, logger } = opts;
  // The data dir holds faces: owner-only (also tightens one made by an older version).
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(config.dataDir, 0o700);
  const ownDb = !opts.db;
  const db = opts.db ?? (await openDatabase(config.databaseUrl, { logger, poolSize: config.databasePoolSize }));
  const producer = createFrameProducer({ redisUrl: config.redisUrl, prefix: config.queuePrefix, logger });
  const notifiers = createAlertNotifiers({ config, redis: producer.redis, logger });
  let realtime: Realtime | undefined;
  let app: FastifyInstance | undefined;
  try {
    const auth = buildAuthService({ config, db, logger, redis: producer.redis, totpClock: opts.totpClock });
    if (opts.ensureAdmin ?? true) await auth.ensureAdmin(config.admin, { mustChangePassword: config.adminMustChangePassword });
    app = createApp({
      config,
      db,
      queues: { frames: producer },
      logger,
      auth,
      io: () => realtime?.io,
      readinessChecks: opts.readinessChecks,
      metricsRegistry: opts.metricsRegistry,
      webRoot: opts.webRoot,
      alertChannels: notifiers.channels,
      totpClock: opts.totpClock,
    });
    realtime = createRealtimeServer({
      httpServer: app.server,
      redisUrl: config.redisUrl,
      queuePrefix: config.queuePrefix,
      authenticate: (token) => auth.authenticate(token),
      logger,
      // Same allow-list as the HTTP API's CORS (empty: same-origin only).
      corsOrigins: config.security.corsOrigins.length > 0 ? [...config.security.corsOrigins] : undefined,
      connectionLimit: { maxPerWindow: config.security.rateLimit.socketPerIp, windowMs: config.security.rateLimit.windowMs, trustProxy: config.security.trustProxy },
      sessionWatch: { intervalMs: config.sessionCheckMs, states: (ids) => createSessionRepository(db.prisma).states(ids) },
    });
    await realtime.ready();
    const address = await app.listen({ port: config.port, host: config.host });
    // Expired sessions are useless; drop them hourly so the table stays small.
    const sessions = createSessionRepository(db.prisma);
    const sweeper = setInterval(() => {
      sessions
        .deleteExpired(new Date())
        .catch((err: unknown) => logger.warn({ err }, 'could not delete expired sessions'));
    }, 3600_000);
    sweeper.unref();
    const url = address.replace('[::1]', 'localhost');
    const beacon = await startInstanceBeacon({ redisUrl: config.redisUrl, queuePrefix: config.queuePrefix, kind: 'api', settings: await sharedSettings(config, secretKeys(config)), logger });
    const rt = realtime;
    const fastify = app;
    let closing: Promise<void> | undefined;
    return {
      app,
      realtime,
      db,
      producer,
      url,
      close() {
        closing ??= (async () => {
          clearInterval(sweeper);
          await beacon.stop();
          await rt.close();
          await fastify.close();
          await notifiers.close();
          await producer.close();
          if (ownDb) await db.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await realtime?.close().catch(() => undefined);
    await app?.close().catch(() => undefined);
    await notifiers.close();
    await producer.close();
    if (ownDb) await db.close();
    throw err;
  }
}
