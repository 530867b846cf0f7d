import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import { Registry } from 'prom-client';
import type { Logger } from 'pino';
import { tileOrigin, zonesInSettings, type Config } from '../config/config.ts';
import type { Db, Provider } from '../db/client.ts';
import { createRepositories } from '../db/repositories/index.ts';
import type { AuthService } from '../auth/service.ts';
import { buildAuthService, buildSecondFactor } from '../auth/wiring.ts';
import { secretKeys } from '../system/secret-key.ts';
import { createAnnouncer, socketChannel, unitStatusChannel, type AlertChannel } from '../services/announcer.ts';
import { createServices } from '../services/index.ts';
import { createIoPublisher, createIoUnitPublisher } from '../realtime/publisher.ts';
import { ioSessionSockets } from '../realtime/session-watch.ts';
import { createPasswordAttempts } from '../auth/password-attempts.ts';
import type { FrameProducer } from '../queue/producer.ts';
import type { RealtimeServer } from '../realtime/server.ts';
import { problemFrameworkErrorHandler, registerProblemHandlers } from './problem.ts';
import { createApiMetrics } from './metrics.ts';
import { analysisWorkTotals } from '../queue/analysis-state.ts';
import { createStaleFrameCounter } from '../queue/freshness.ts';
import { createFrameStore } from './ingest/frame-store.ts';
import { createFrameIngestor } from './ingest/ingest-frame.ts';
import { createLastFrameRecorder } from './ingest/last-frame.ts';
import { createCameraGate } from './ingest/camera-gate.ts';
import type { ApiContext, ReadinessCheck } from './context.ts';
import { authRoutes } from './routes/auth.ts';
import { ssoRoutes } from './routes/sso.ts';
import { createSsoClient } from '../auth/sso.ts';
import { createSecretBox } from '../auth/secret-box.ts';
import { cameraRoutes } from './routes/cameras.ts';
import { SCIM_PREFIX, scimRoutes } from './routes/scim.ts';
import { zoneRoutes } from './routes/zones.ts';
import { userRoutes } from './routes/users.ts';
import { FRAME_CONTENT_TYPES, frameRoutes } from './routes/frames.ts';
import { DETECTIONS_CONTENT_TYPES, detectionRoutes } from './routes/detections.ts';
import { createDetectionsIngestor, type ServerDecision } from './ingest/ingest-detections.ts';
import { loadServerDecision } from '../vision/deployed-rule.ts';
import { continueWhenAccepted, createUploadGuard, drainRefusedBody } from './ingest/upload-guard.ts';
import { accountRoutes } from './routes/accounts.ts';
import { alertRoutes } from './routes/alerts.ts';
import { violationRoutes } from './routes/violations.ts';
import { snapshotRoutes } from './routes/snapshots.ts';
import { alertEvidenceRoutes } from './routes/alert-evidence.ts';
import { renderAlertFrame } from '../vision/render.ts';
import { opsRoutes, readinessSchema } from './routes/ops.ts';
import { dashboardSettingsRoutes } from './routes/dashboard-settings.ts';
import { webhookDeliveryRoutes } from './routes/webhook-deliveries.ts';
import { auditRoutes } from './routes/audit.ts';
import { unitRoutes } from './routes/units.ts';
import { alertActionRoutes } from './routes/alert-actions.ts';
import { alertPeopleRoutes } from './routes/alert-people.ts';
import { statsRoutes } from './routes/stats.ts';
import { exportRoutes } from './routes/exports.ts';
import { privacyRoutes } from './routes/privacy.ts';
import { systemRoutes } from './routes/system.ts';
import { problemClientErrorHandler, securityPlugin } from './security.ts';
import { parseRedisInfo, redisSettingsChecks } from '../domain/deployment-checks.ts';
import { runDoctor } from '../system/doctor.ts';
import { listInstances } from '../system/instance-beacon.ts';

export interface AppDeps {
  config: Config;
  /** The database handle of src/db/client.ts (only `prisma` is used here, to build the repositories). */
  db: { prisma: Db; provider?: Provider };
  queues: { frames: FrameProducer };
  logger: Logger;
  /** Socket.IO server on this app's HTTP server; a function when it is created after the app. */
  io?: RealtimeServer | (() => RealtimeServer | undefined);
  /** Shared with the Socket.IO auth middleware; built from db + config when omitted. */
  auth?: AuthService;
  readinessChecks?: ReadinessCheck[];
  /** /metrics registry, when the caller registers metrics of its own on it (worker pool restarts). */
  metricsRegistry?: Registry;
  /** Built dashboard to serve at / (src/web/dist); skipped when absent. */
  webRoot?: string;
  /** The clock of two-factor codes; the real one when absent. */
  totpClock?: () => Date;
  /** JSON bodies are small; frames have their own limit (config.ingest.maxFrameBytes). */
  jsonBodyLimit?: number;
  /**
   * Where alert changes go besides this instance's sockets: webhooks and
   * escalation timers (built by src/system/api-instance.ts from config).
   */
  alertChannels?: AlertChannel[];
  /** The violation rule edge detections are judged by; read from the head file (config.vision overrides) when omitted. */
  decision?: ServerDecision;
}

declare module 'fastify' {
  interface FastifyInstance {
    auth: AuthService;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The HTTP API. No globals: everything comes from `deps`, so tests build apps
 * with real parts on free ports, queue prefixes and databases of their own.
 * Call `app.listen()` (or `app.ready()`) afterwards.
 */
export function createApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger,
    // Request lines are logged in onResponse below, compactly, and not per accepted frame.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.jsonBodyLimit ?? 256 * 1024,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
    // Socket.IO shares the server; Fastify must not reject its long-polling requests' paths.
    forceCloseConnections: true,
    // Slow or short-bodied requests cannot hold a connection forever. Node checks for them every 30 s by default,
    // which lets one live up to 30 s past the limit: check at a quarter of it instead.
    requestTimeout: deps.config.security.requestTimeoutMs,
    http: { connectionsCheckingInterval: Math.min(30_000, Math.max(250, deps.config.security.requestTimeoutMs / 4)) },
    clientErrorHandler: problemClientErrorHandler,
    // Route parameters are bounded by each route's schema (ids ≤ 128, snapshot paths ≤ 1024), which answers with a
    // problem naming the field; the router's own bound (100 by default) would cut in first with a bare 414.
    routerOptions: { maxParamLength: 2048 },
    frameworkErrors: problemFrameworkErrorHandler,
    // Only the configured proxies may set the client address (per-IP rate limits, logs).
    trustProxy: deps.config.security.trustProxy.length > 0 ? deps.config.security.trustProxy : false,
  }) as unknown as FastifyInstance;

  // Node enforces requestTimeout only on connections older than headersTimeout (default 60 s): keep it no longer.
  app.server.headersTimeout = Math.min(app.server.headersTimeout, deps.config.security.requestTimeoutMs);
  const repos = createRepositories(deps.db.prisma, deps.db.provider);
  const producer = deps.queues.frames;
  const auth = deps.auth ?? buildAuthService({ ...deps, redis: producer.redis });
  const registry = deps.metricsRegistry ?? new Registry();
  const instances = () => listInstances(producer.redis, deps.config.queuePrefix);
  const metrics = createApiMetrics(registry, {
    logger: deps.logger,
    jobCounts: () => producer.jobCounts(),
    frameWorkers: () => producer.frameWorkerCount(),
    redisRequirements: async () => redisSettingsChecks(parseRedisInfo(await producer.redis.info())),
    instances,
    staleFrames: () => createStaleFrameCounter(producer.redis, deps.config.queuePrefix).perCamera(),
    analysisWork: () => analysisWorkTotals(producer.redis, deps.config.queuePrefix),
    alertCounts: () => repos.alerts.countsByStatus(),
    cameraHealth: { cameras: () => repos.cameras.healthRows(), silentSeconds: deps.config.cameraSilentSeconds },
    // Read at scrape time, once the services below exist.
    zones: () => services.zones.list(),
    evidenceHolds: () => services.evidenceHolds.reviewCounts(),
  });
  const { cameras, audit } = repos;
  const io = () => (typeof deps.io === 'function' ? deps.io() : deps.io);
  const gate = createCameraGate({ redis: producer.redis, prefix: deps.config.queuePrefix, cameras });
  const lastFrame = createLastFrameRecorder({ cameras, logger: deps.logger });
  const ingest = createFrameIngestor({
    lastFrame,
    gate,
    store: createFrameStore(deps.config.dataDir),
    producer,
    metrics,
    logger: deps.logger,
    limits: {
      maxFramePixels: deps.config.ingest.maxFramePixels,
      maxCameraBacklog: deps.config.ingest.maxCameraBacklog,
      maxCapturedAgeMs: deps.config.privacy.retentionDays * 86_400_000,
    },
    incidentWindowMs: deps.config.alerts.cooldownSeconds * 1000,
  });
  let decision: Promise<ServerDecision> | undefined;
  const ingestDetections = createDetectionsIngestor({
    gate,
    lastFrame,
    store: createFrameStore(deps.config.dataDir),
    producer,
    metrics,
    logger: deps.logger,
    // The worker's rule, read from the same head file with the same overrides (loaded at the first upload).
    decision: () =>
      (decision ??= (deps.decision ? Promise.resolve(deps.decision) : loadServerDecision(deps.config.vision)).catch((err: unknown) => {
        decision = undefined;
        throw err;
      })),
    limits: {
      maxFramePixels: deps.config.ingest.maxFramePixels,
      maxCameraBacklog: deps.config.ingest.maxCameraBacklog,
      maxCapturedAgeMs: deps.config.privacy.retentionDays * 86_400_000,
    },
    incidentWindowMs: deps.config.alerts.cooldownSeconds * 1000,
  });
  const unitEvents = createIoUnitPublisher(io);
  // Every alert change of this API (officer and dispatcher actions) goes through this one announcer.
  const announcer = createAnnouncer({
    channels: [socketChannel(createIoPublisher(io, deps.logger)), unitStatusChannel(repos.units, unitEvents), ...(deps.alertChannels ?? [])],
    logger: deps.logger,
  });
  const keys = secretKeys(deps.config);
  const services = createServices({
    repos,
    announcer,
    auth,
    ssoGroups: deps.config.security.sso?.groups ?? null,
    scimRoles: deps.config.security.scim?.roles ?? [],
    zoneSettings: zonesInSettings(deps.config),
    gate,
    unitEvents,
    // Account changes drop the user's sockets on every instance; password changes are throttled like logins.
    sessionSockets: ioSessionSockets(io),
    passwordAttempts: createPasswordAttempts({
      redis: producer.redis,
      prefix: deps.config.queuePrefix,
      maxAttempts: deps.config.security.loginMaxFailures,
      windowMs: deps.config.security.loginLockSeconds * 1000,
    }),
    secondFactor: buildSecondFactor({ config: deps.config, users: repos.users, keys: repos.securityKeys, redis: producer.redis, now: deps.totpClock }),
    secretKeys: keys,
    dataDir: deps.config.dataDir,
    holdReviewDays: deps.config.privacy.holdReviewDays,
    // Stored frames were written by our workers under this limit; it still bounds what a view decodes.
    renderAlertFrame: (stored, plan) => renderAlertFrame(stored, plan, { maxPixels: deps.config.ingest.maxFramePixels }),
    deploymentChecks: () => runDoctor({ config: deps.config, vision: false }),
    instances,
    logger: deps.logger,
  });
  const ctx: ApiContext = {
    config: deps.config,
    auth,
    services,
    pingDatabase: () => repos.ping(),
    cameras,
    gate,
    audit,
    producer,
    ingest,
    ingestDetections,
    metrics,
    logger: deps.logger,
    readinessChecks: deps.readinessChecks ?? [],
    sso: deps.config.security.sso
      ? createSsoClient({
          config: deps.config.security.sso,
          box: () => keys('sign-on state').then(createSecretBox),
          claimOnce: async (id, ttlMs) => (await producer.redis.set(`${deps.config.queuePrefix}:sso-handoff:${id}`, '1', 'PX', ttlMs, 'NX')) === 'OK',
        })
      : undefined,
    get io() {
      return io();
    },
  };

  app.decorate('auth', auth);
  app.decorateRequest('user', null);
  app.decorateRequest('authToken', null);
  registerProblemHandlers(app);
  // Headers, CORS and rate limits: before every route (see src/api/security.ts).
  const { tileUrl } = deps.config.map;
  app.register(securityPlugin, { ...deps.config.security, imageOrigins: tileUrl ? [tileOrigin(tileUrl)] : [] });
  app.addSchema(readinessSchema);

  // The last batch of camera.lastFrameAt goes out before the database client closes.
  app.addHook('onClose', async () => lastFrame.flush());
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const status = reply.statusCode;
    // The client address (behind a trusted proxy: from X-Forwarded-For) on every request line.
    const line = { method: request.method, url: request.url.split('?')[0], status, ms: Math.round(reply.elapsedTime), ip: request.ip };
    // /readyz's 503 is logged by the route itself (which checks failed).
    if (status >= 500 && !(status === 503 && request.routeOptions.url === '/readyz')) request.log.error(line, 'request failed');
    // Accepted uploads are the bulk of the traffic (cameras × fps): not a line each at info.
    else if (status === 202 && request.routeOptions.url === '/api/v1/frames') request.log.trace(line, 'frame accepted');
    else if (status === 202 && request.routeOptions.url === '/api/v1/detections') request.log.trace(line, 'detections accepted');
    else request.log.info(line, 'request');
  });

  app.register(swagger, {
    openapi: {
      info: {
        title: 'MaskWatch API',
        version: '0.1.0',
        description: 'Frame ingestion, cameras, alerts and violations. Errors are application/problem+json.',
      },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'login token from POST /api/v1/auth/login' },
          cameraKey: { type: 'http', scheme: 'bearer', description: 'camera API key (mwc_…)' },
          scimToken: { type: 'http', scheme: 'bearer', description: 'the directory\'s SCIM token, whose SHA-256 is MASKWATCH_SCIM_TOKEN_SHA256' },
        },
      },
    },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });

  app.register(async (scope) => {
    await authRoutes(scope, ctx);
    await ssoRoutes(scope, ctx);
    await userRoutes(scope, ctx);
    await accountRoutes(scope, ctx);
    await cameraRoutes(scope, ctx);
    await zoneRoutes(scope, ctx);
    await alertRoutes(scope, ctx);
    await violationRoutes(scope, ctx);
    await snapshotRoutes(scope, ctx);
    await opsRoutes(scope, ctx);
    await unitRoutes(scope, ctx);
    await alertActionRoutes(scope, ctx);
    await alertPeopleRoutes(scope, ctx);
    await alertEvidenceRoutes(scope, ctx);
    await statsRoutes(scope, ctx);
    await exportRoutes(scope, ctx);
    await privacyRoutes(scope, ctx);
    await dashboardSettingsRoutes(scope, ctx);
    await webhookDeliveryRoutes(scope, ctx);
    await auditRoutes(scope, ctx);
    await systemRoutes(scope, ctx);
  });
  // The directory's provisioning client: SCIM's own media type, token and errors (its own scope).
  app.register(async (scope) => scimRoutes(scope, ctx), { prefix: SCIM_PREFIX });
  // Frames: key, type and size checked before the body is read; refused bodies drained so the answer arrives.
  continueWhenAccepted(app);
  const uploadGuard = createUploadGuard({ gate, metrics, maxFrameBytes: deps.config.ingest.maxFrameBytes, contentTypes: FRAME_CONTENT_TYPES });
  app.register(async (scope) => {
    scope.addHook('onRequest', uploadGuard);
    scope.addHook('onSend', drainRefusedBody);
    await frameRoutes(scope, ctx);
  });
  // Edge agents' detections: the same guard (key, Content-Type, Content-Length before the body is read).
  const detectionsGuard = createUploadGuard({ gate, metrics, maxFrameBytes: deps.config.ingest.maxFrameBytes, contentTypes: DETECTIONS_CONTENT_TYPES });
  app.register(async (scope) => {
    scope.addHook('onRequest', detectionsGuard);
    scope.addHook('onSend', drainRefusedBody);
    await detectionRoutes(scope, ctx);
  });

  if (deps.webRoot && existsSync(deps.webRoot)) {
    app.register(fastifyStatic, { root: deps.webRoot, prefix: '/', wildcard: false, index: ['index.html'] });
  }
  return app;
}
