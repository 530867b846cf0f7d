/**
 * `maskwatch worker [--concurrency N] [--metrics-port P]`: one detection worker
 * process. Loads the vision engine once, consumes the frames queue until
 * SIGTERM/SIGINT, then lets in-flight jobs finish before closing the DB and engine.
 * Jobs of a worker killed outright are recovered by any live worker once their
 * lock expires (MASKWATCH_WORKER_LOCK_MS, default 30 s).
 */
import { createServer, type Server } from 'node:http';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { envFlag, loadConfig, type Config } from '../../config/config.ts';
import type { WorkerMetrics } from '../../queue/handlers/metrics.ts';
import { createLogger } from '../../system/logger.ts';
import { createShutdownTrigger, type ShutdownReason } from '../../system/shutdown.ts';
import { setHeapGrowth } from '../../system/heap-growth.ts';

const USAGE = `usage: maskwatch worker [--concurrency N] [--metrics-port PORT]
Runs a detection worker on the frames queue (config from the environment:
DATABASE_URL, REDIS_URL, MASKWATCH_QUEUE_PREFIX, MASKWATCH_DATA_DIR, MASKWATCH_ASSETS, ...).
--metrics-port serves Prometheus metrics at http://127.0.0.1:PORT/metrics.
`;

function positiveInt(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${name} must be an integer between 1 and ${max}, got "${raw}"`);
  return v;
}

function serveMetrics(metrics: WorkerMetrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

export async function run(argv: string[]): Promise<number> {
  let concurrency: number;
  let metricsPort: number | undefined;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        concurrency: { type: 'string' },
        'metrics-port': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    concurrency = positiveInt('--concurrency', values.concurrency, 1, 64);
    metricsPort = values['metrics-port'] === undefined ? undefined : positiveInt('--metrics-port', values['metrics-port'], 0, 65535);
  } catch (err) {
    process.stderr.write(`maskwatch worker: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }

  // Listen for signals (and the supervisor's death) before anything starts: one arriving
  // during start-up (jobs may already be running) still gets a graceful shutdown.
  // Polling the parent pid is opt-in: a worker started from a shell may outlive it on purpose.
  const shutdown = createShutdownTrigger({ timeoutMs: 10_000, pollPpid: envFlag(process.env, 'MASKWATCH_EXIT_WITH_PARENT') });
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    shutdown.done();
    throw err;
  }
  setHeapGrowth(config.worker.heapGrowthPercent);
  const logger = createLogger(config, { service: 'worker' });
  shutdown.setLogger(logger);
  shutdown.setTimeoutMs(config.worker.stopTimeoutMs);
  try {
    // As `maskwatch api`: Redis unreachable at start is one clear line and exit 1, not a worker waiting silently.
    const { checkRedis, RedisUnavailableError } = await import('../../system/redis-check.ts');
    try {
      await checkRedis(config.redisUrl);
    } catch (err) {
      if (!(err instanceof RedisUnavailableError)) throw err;
      process.stderr.write(`maskwatch: ${err.message}\n`);
      return 1;
    }
    return await runWorker({ config, logger, concurrency, metricsPort, stopSignal: shutdown.requested });
  } finally {
    shutdown.done();
  }
}

async function runWorker(opts: {
  config: Config;
  logger: Logger;
  concurrency: number;
  metricsPort: number | undefined;
  stopSignal: Promise<ShutdownReason>;
}): Promise<number> {
  const { config, logger, concurrency, metricsPort, stopSignal } = opts;
  // The queue, database and vision stacks load only here: --help and argument errors answer at once.
  const [{ openDatabase }, { createDetectionWorker }, { redisOptionsFromUrl }, { startWebhookDelivery }, { createWorkerMetrics }, { startRetentionService }, { createVisionEngine }, { visionEngineOptions }, { secretKeys }, { sharedSettings, startInstanceBeacon }] =
    await Promise.all([
      import('../../db/client.ts'),
      import('../../queue/wiring/detection.ts'),
      import('../../queue/redis-options.ts'),
      import('../../queue/wiring/alert-notifiers.ts'),
      import('../../queue/handlers/metrics.ts'),
      import('../../queue/handlers/retention.ts'),
      import('../../vision/engine.ts'),
      import('../../config/vision-engine.ts'),
      import('../../system/secret-key.ts'),
      import('../../system/instance-beacon.ts'),
    ]);
  const keys = secretKeys(config);
  const db = await openDatabase(config.databaseUrl, { logger, poolSize: config.databasePoolSize });
  const closers: (() => Promise<unknown>)[] = [() => db.close()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch((err: unknown) => logger.error({ err }, 'close failed'));
  };
  try {
    const engine = await createVisionEngine(visionEngineOptions(config, { logger }));
    closers.push(() => engine.close());
    const metrics = createWorkerMetrics({ defaultMetrics: true });
    if (metricsPort !== undefined) {
      const server = await serveMetrics(metrics, metricsPort, config.host);
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      logger.info({ port: metricsPort }, 'metrics at /metrics');
    }
    // Webhooks (MASKWATCH_WEBHOOKS): closed after the detection worker, whose last jobs may still enqueue events.
    const webhooks = startWebhookDelivery({
      connection: redisOptionsFromUrl(config.redisUrl),
      prefix: config.queuePrefix,
      targets: config.webhooks,
      prisma: db.prisma,
      logger,
    });
    if (webhooks) closers.push(() => webhooks.close());
    const detection = createDetectionWorker({
      redisUrl: config.redisUrl,
      queuePrefix: config.queuePrefix,
      dataDir: config.dataDir,
      prisma: db.prisma,
      engine,
      reuse: config.vision.reuse,
      maxFramePixels: config.ingest.maxFramePixels,
      cooldownSeconds: config.alerts.cooldownSeconds,
      confirmation: config.alerts.confirmation,
      violationThreshold: config.alerts.confirmThreshold,
      concurrency,
      detectionsConcurrency: config.worker.detectionsConcurrency,
      lockDurationMs: config.worker.lockDurationMs,
      maxFrameAgeMs: config.worker.maxFrameAgeSeconds * 1000,
      stalledIntervalMs: config.worker.stalledIntervalMs,
      metrics,
      channels: webhooks ? [webhooks.channel] : [],
      escalation: config.alerts.escalation,
      logger,
    });
    closers.push(() => detection.close());
    await detection.worker.waitUntilReady();
    await detection.detectionsWorker.waitUntilReady();
    await detection.escalationWorker?.waitUntilReady();
    // Timers an API could not enqueue (Redis away) or Redis lost; a failure here must not stop detection.
    await detection.resumeEscalationTimers().catch((err: unknown) => logger.warn({ err }, 'could not resume escalation timers'));
    // Privacy: the retention job (MASKWATCH_RETENTION_DAYS) on its own queue; every worker upserts the same one schedule.
    const retention = await startRetentionService({
      connection: redisOptionsFromUrl(config.redisUrl),
      prefix: config.queuePrefix,
      prisma: db.prisma,
      dataDir: config.dataDir,
      retentionDays: config.privacy.retentionDays,
      intervalMinutes: config.privacy.retentionIntervalMinutes,
      auditSealKey: () => keys('audit seals'),
      disableInactiveDays: config.security.disableInactiveDays,
      logger,
    });
    closers.push(() => retention.close());
    const beacon = await startInstanceBeacon({ redisUrl: config.redisUrl, queuePrefix: config.queuePrefix, kind: 'worker', settings: await sharedSettings(config, keys), logger });
    closers.push(() => beacon.stop());
    logger.info(
      { concurrency, detectionsConcurrency: config.worker.detectionsConcurrency, queuePrefix: config.queuePrefix, webhooks: config.webhooks.map((t) => t.name), escalation: config.alerts.escalation },
      'worker ready',
    );

    process.send?.({ type: 'ready' });

    const signal = await stopSignal;
    logger.info({ signal }, 'shutting down: waiting for in-flight jobs');
    await closeAll();
    logger.info('worker stopped');
    return 0;
  } catch (err) {
    logger.error({ err }, 'worker failed to start');
    await closeAll();
    throw err;
  }
}
