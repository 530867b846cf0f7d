/**
 * Shared set-up of the worker / pipeline tests (not a test file itself): real
 * vision engine, a camera row, frames staged where the API would store them,
 * and a Socket.IO client listening through the production realtime server.
 */
import { once } from 'node:events';
import { copyFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { io as connectClient, type Socket } from 'socket.io-client';
import type { Config } from '../../src/config/config.ts';
import type { Db } from '../../src/db/client.ts';
import { Job, Queue, QueueEvents } from 'bullmq';
import { QUEUES, type FrameJob } from '../../src/queue/jobs.ts';
import { redisOptionsFromUrl } from '../../src/queue/redis-options.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import { createRealtimeServer } from '../../src/realtime/server.ts';
import { createVisionEngine } from '../../src/vision/engine.ts';
import { visionEngineOptions } from '../../src/config/vision-engine.ts';
import { createDetectionWorker, type DetectionWorker, type DetectionWorkerOptions } from '../../src/queue/wiring/detection.ts';
import type { TestStack } from '../helpers/api.ts';
import type { VisionEngine } from '../../src/vision/types.ts';
import { socketConnected, withTimeout } from '../helpers/wait.ts';

export const DATASETS = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets');
/** Real photos: one unmasked face (Prajna's seed set) and one real masked face (chandrikadeb7). */
export const UNMASKED_FACE = path.join(DATASETS, 'prajna', 'without_mask', '10.jpg');
/** Another person whose face is smaller and elsewhere in the frame than UNMASKED_FACE's. */
export const UNMASKED_FACE_2 = path.join(DATASETS, 'prajna', 'without_mask', '0.jpg');
export const MASKED_FACE = path.join(DATASETS, 'chandrikadeb7', 'with_mask', '0323.jpg');

export function loadEngine(config: Config, logger?: Logger): Promise<VisionEngine> {
  return createVisionEngine(visionEngineOptions(config, { intraOpThreads: 1, logger }));
}

/** The real analysis path of a test stack: the engine, one detection worker, and a wait for an accepted frame's analysis. */
export async function startStackAnalysis(stack: TestStack) {
  const engine = await loadEngine(stack.config, stack.logger);
  const detection = stackDetectionWorker(stack, engine, { concurrency: 1, updateIntervalMs: 50 });
  const connection = redisOptionsFromUrl(stack.config.redisUrl);
  const queue = new Queue(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
  const queueEvents = new QueueEvents(QUEUES.frames, { connection, prefix: stack.config.queuePrefix });
  await queueEvents.waitUntilReady();
  return {
    engine,
    /** Resolves once the worker has analysed the frame (its job id is the frame id); a job already gone was analysed. */
    async analysed(frameId: string): Promise<void> {
      const job = await Job.fromId(queue, frameId);
      if (job) await job.waitUntilFinished(queueEvents, 60_000);
    },
    async close(): Promise<void> {
      await queueEvents.close();
      await queue.close();
      await detection.close();
      await engine.close();
    },
  };
}

/** A detection worker on the test stack's Redis prefix, data dir and database; `more` adds or overrides options. */
export function stackDetectionWorker(stack: TestStack, engine: VisionEngine, more: Partial<DetectionWorkerOptions> = {}): DetectionWorker {
  return createDetectionWorker({
    redisUrl: stack.config.redisUrl,
    queuePrefix: stack.config.queuePrefix,
    dataDir: stack.dataDir,
    prisma: stack.db.prisma,
    engine,
    cooldownSeconds: stack.config.alerts.cooldownSeconds,
    confirmation: stack.config.alerts.confirmation,
    violationThreshold: stack.config.alerts.confirmThreshold,
    logger: stack.logger,
    ...more,
  });
}

export async function createCamera(prisma: Db, name = 'Main St & 3rd'): Promise<{ id: string; name: string }> {
  return prisma.camera.create({
    data: {
      name,
      latitude: 40.4168,
      longitude: -3.7038,
      address: '3rd Avenue',
      zone: 'centre',
      apiKeyHash: randomUUID(),
      apiKeyHint: 'abcd',
    },
    select: { id: true, name: true },
  });
}

/** Copies an image where ingestion stores frames and returns the job payload. */
export async function stageFrame(
  dataDir: string,
  cameraId: string,
  source: string,
  capturedAt = new Date(),
  frameId: string = randomUUID(),
): Promise<FrameJob & { file: string }> {
  const rel = `frames/${cameraId}/${frameId}.jpg`;
  const file = path.join(dataDir, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await copyFile(source, file);
  return { frameId, cameraId, path: rel, capturedAt: capturedAt.toISOString(), receivedAt: new Date().toISOString(), file };
}

type AlertEventName = keyof ServerToClientEvents;

/** Records alert events received by a socket; waits for one matching a predicate. */
export class EventLog {
  readonly events: { name: AlertEventName; alert: AlertEvent }[] = [];
  private waiters: { name: AlertEventName; match: (a: AlertEvent) => boolean; resolve: (a: AlertEvent) => void }[] = [];

  constructor(socket: Socket<ServerToClientEvents>) {
    for (const name of ['alert.created', 'alert.updated'] as const) {
      socket.on(name, (alert: AlertEvent) => {
        this.events.push({ name, alert });
        this.waiters = this.waiters.filter((w) => {
          if (w.name !== name || !w.match(alert)) return true;
          w.resolve(alert);
          return false;
        });
      });
    }
  }

  /** The first event (already received or future) matching. */
  next(name: AlertEventName, match: (a: AlertEvent) => boolean = () => true): Promise<AlertEvent> {
    const seen = this.events.find((e) => e.name === name && match(e.alert));
    if (seen) return Promise.resolve(seen.alert);
    return withTimeout(new Promise((resolve) => this.waiters.push({ name, match, resolve })), `a matching ${name} event`);
  }

  of(cameraId: string) {
    return this.events.filter((e) => e.alert.cameraId === cameraId);
  }
}

/**
 * The production Socket.IO server (Redis adapter, same key as the worker's
 * emitter) on a free port, with every socket authenticated as a dispatcher.
 */
export async function startDispatchListener(config: Config, logger: Logger) {
  const httpServer = createServer();
  const realtime = createRealtimeServer({
    httpServer,
    redisUrl: config.redisUrl,
    queuePrefix: config.queuePrefix,
    logger,
    authenticate: async () => ({ id: 'u1', username: 'dispatcher', role: 'DISPATCHER', unitId: null, zones: [], sessionId: 's1' }),
  });
  httpServer.listen(0, '127.0.0.1');
  await once(httpServer, 'listening');
  await realtime.ready();
  const { port } = httpServer.address() as AddressInfo;
  const socket: Socket<ServerToClientEvents> = connectClient(`http://127.0.0.1:${port}`, {
    transports: ['websocket'],
    auth: { token: 'test' },
  });
  const log = new EventLog(socket);
  await socketConnected(socket);
  return {
    log,
    async close() {
      socket.close();
      await realtime.close();
    },
  };
}
