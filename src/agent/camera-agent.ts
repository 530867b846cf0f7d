/**
 * The camera agent's delivery loop: frames in (from any source), POSTed to
 * the API; what the server cannot take now goes to the on-disk spool and is
 * retried oldest-first with backoff + full jitter, honouring Retry-After.
 *
 * While the spool holds anything, new frames queue behind it, so the server
 * receives each camera's frames in capture order and is not hammered while it
 * recovers. A 401 stops the agent (a revoked key will not fix itself).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { DEFAULT_BACKOFF, retryDelay, validateBackoff, type BackoffPolicy } from './backoff.ts';
import { CONTENT_TYPES, extensionForPayload, UPLOAD_PATHS, type SpoolEntry } from './spool-policy.ts';
import type { EdgeAnalyzer } from './edge-analysis.ts';
import type { FrameSpool } from './spool.ts';
import { AgentStats } from './stats.ts';
import { postFrame, type UploadOutcome } from './upload.ts';

export interface Frame {
  image: Buffer;
  capturedAt: Date;
}

export interface CameraAgentOptions {
  server: string;
  apiKey: string;
  spool: FrameSpool;
  logger: Logger;
  backoff?: BackoffPolicy;
  /** Live frames sent concurrently while the server keeps up (default 2). */
  maxInFlight?: number;
  requestTimeoutMs?: number;
  /** Stats line every this many ms (0 = never). */
  statsIntervalMs?: number;
  /** Called for every frame the server accepted (simulator / benchmark bookkeeping). */
  onAccepted?(info: { frameId: string; capturedAt: Date; latencyMs: number }): void;
  random?: () => number;
  fetch?: typeof fetch;
  /**
   * Edge analysis (--analyze): each frame is analysed here and only its detections (plus crops of
   * violating faces) are uploaded, to /api/v1/detections, with the same pacing, spool and retry rules.
   */
  analyze?: EdgeAnalyzer;
}

export type StopReason = 'stopped' | 'unauthorized';

export class UnauthorizedError extends Error {
  constructor(reason: string) {
    super(`the server refused the camera API key (401: ${reason}); check --key, or whether the camera was disabled or its key rotated`);
    this.name = 'UnauthorizedError';
  }
}

export function createCameraAgent(opts: CameraAgentOptions) {
  const log = opts.logger;
  const backoff = validateBackoff(opts.backoff ?? DEFAULT_BACKOFF);
  const maxInFlight = opts.maxInFlight ?? 2;
  const timeoutMs = opts.requestTimeoutMs ?? 10_000;
  const random = opts.random ?? Math.random;
  const stats = new AgentStats();
  const abort = new AbortController();
  const pending = new Set<Promise<unknown>>();
  let attempt = 0;
  let nextAttemptAt = 0;
  let draining = false;
  let inFlight = 0;
  let stopReason: StopReason | null = null;
  let unauthorized: UnauthorizedError | null = null;
  let resolveDone!: (r: StopReason) => void;
  const done = new Promise<StopReason>((r) => (resolveDone = r));
  // Spool operations run one at a time, so eviction never races a send of the same entry.
  let spoolChain: Promise<unknown> = Promise.resolve();
  const withSpool = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = spoolChain.then(fn);
    spoolChain = p.catch(() => undefined);
    return p;
  };

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  // A payload is a frame (image bytes) or an edge agent's detections (JSON): each goes to its own route.
  const send = (image: Buffer, capturedAt: Date): Promise<UploadOutcome> => {
    const ext = extensionForPayload(image) ?? 'jpg';
    return postFrame({ server: opts.server, apiKey: opts.apiKey, image, contentType: CONTENT_TYPES[ext], path: UPLOAD_PATHS[ext], capturedAt, timeoutMs, fetch: opts.fetch });
  };

  const accepted = (outcome: Extract<UploadOutcome, { kind: 'accepted' }>, capturedAt: Date) => {
    stats.counters.sent += 1;
    stats.recordLatency(outcome.latencyMs);
    attempt = 0;
    log.debug({ frameId: outcome.frameId, capturedAt: capturedAt.toISOString() }, 'frame accepted');
    opts.onAccepted?.({ frameId: outcome.frameId, capturedAt, latencyMs: outcome.latencyMs });
  };

  const enterBackoff = (outcome: Extract<UploadOutcome, { kind: 'retry' }>) => {
    const delay = retryDelay(attempt, outcome.retryAfterMs, backoff, random);
    attempt += 1;
    nextAttemptAt = Math.max(nextAttemptAt, Date.now() + delay);
    log.warn({ status: outcome.status, reason: outcome.reason, retryInMs: delay, spoolSize: opts.spool.size() }, 'server cannot take frames: spooling and retrying');
  };

  const stopUnauthorized = (reason: string) => {
    if (unauthorized) return;
    unauthorized = new UnauthorizedError(reason);
    log.error({ reason }, unauthorized.message);
    void stop('unauthorized');
  };

  const spoolFrame = async (image: Buffer, capturedAt: Date) => {
    const evicted = await withSpool(() => opts.spool.push(image, capturedAt, extensionForPayload(image) ?? 'jpg'));
    stats.counters.spooled += 1;
    if (evicted.length > 0) {
      stats.counters.dropped += evicted.length;
      log.warn({ dropped: evicted.length, oldest: evicted[0]!.capturedAt.toISOString(), spoolMax: opts.spool.max }, 'spool full: dropped oldest frames');
    }
    kickDrain();
  };

  const sendLive = async (frame: Frame) => {
    inFlight += 1;
    let outcome: UploadOutcome;
    try {
      outcome = await send(frame.image, frame.capturedAt);
    } finally {
      inFlight -= 1;
    }
    switch (outcome.kind) {
      case 'accepted':
        return accepted(outcome, frame.capturedAt);
      case 'retry':
        enterBackoff(outcome);
        return spoolFrame(frame.image, frame.capturedAt);
      case 'reject':
        stats.counters.rejected += 1;
        log.warn({ status: outcome.status, reason: outcome.reason }, 'frame rejected by the server: dropped');
        return;
      case 'unauthorized':
        return stopUnauthorized(outcome.reason);
    }
  };

  async function drainLoop() {
    while (!stopReason) {
      const wait = nextAttemptAt - Date.now();
      if (wait > 0) {
        try {
          await sleep(wait, undefined, { signal: abort.signal });
        } catch {
          return; // stopped
        }
        continue;
      }
      const head = await withSpool(() => opts.spool.peek());
      if (!head) return;
      stats.counters.retried += 1;
      const outcome = await send(head.image, head.entry.capturedAt);
      const drop = (entry: SpoolEntry) => withSpool(() => opts.spool.remove(entry));
      switch (outcome.kind) {
        case 'accepted':
          await drop(head.entry);
          accepted(outcome, head.entry.capturedAt);
          nextAttemptAt = 0;
          break;
        case 'retry':
          enterBackoff(outcome);
          break;
        case 'reject':
          await drop(head.entry);
          stats.counters.rejected += 1;
          log.warn({ status: outcome.status, reason: outcome.reason, entry: head.entry.name }, 'spooled frame rejected by the server: dropped');
          break;
        case 'unauthorized':
          stopUnauthorized(outcome.reason);
          return;
      }
    }
  }

  function kickDrain() {
    if (draining || stopReason) return;
    draining = true;
    track(
      drainLoop()
        .catch((err: unknown) => log.error({ err }, 'spool drain failed'))
        .finally(() => {
          draining = false;
          // A frame spooled while the loop was finishing must not wait for the next failure.
          if (!stopReason && opts.spool.size() > 0 && !draining) kickDrain();
          else if (opts.spool.size() === 0) log.debug('spool drained');
        }),
    );
  }

  const statsTimer =
    (opts.statsIntervalMs ?? 10_000) > 0
      ? setInterval(() => log.info({ ...stats.report(opts.spool.size()), inFlight }, 'agent stats'), opts.statsIntervalMs ?? 10_000)
      : null;
  statsTimer?.unref();

  async function stop(reason: StopReason = 'stopped'): Promise<StopReason> {
    if (!stopReason) {
      stopReason = reason;
      abort.abort();
      if (statsTimer) clearInterval(statsTimer);
      // In-flight sends finish (a failing one is still spooled: nothing is lost on shutdown).
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await spoolChain;
      log.info({ ...stats.report(opts.spool.size()), reason }, 'agent stopped');
      resolveDone(reason);
    }
    return done;
  }

  const deliver = (frame: Frame): Promise<unknown> => {
    const live = opts.spool.size() === 0 && !draining && Date.now() >= nextAttemptAt && inFlight < maxInFlight;
    return live ? sendLive(frame) : spoolFrame(frame.image, frame.capturedAt);
  };

  // One analysis at a time (the engine is one ONNX session), and at most one frame waiting for it: a host
  // slower than --fps analyses the newest frames and skips the rest (counted), instead of falling behind.
  let analysing: Promise<unknown> = Promise.resolve();
  let waiting = 0;
  const analyseThenDeliver = async (frame: Frame): Promise<void> => {
    if (waiting >= 1) {
      stats.counters.skipped += 1;
      return;
    }
    waiting += 1;
    const turn = analysing.then(async () => {
      waiting -= 1;
      if (stopReason) return;
      const result = await opts.analyze!(frame.image, frame.capturedAt);
      stats.recordAnalysis(result.analyzeMs + result.renderMs);
      log.debug({ faces: result.faces, violations: result.violations, analyzeMs: Math.round(result.analyzeMs) }, 'frame analysed on site');
      if (result.droppedFaces > 0) log.info({ sent: result.faces, dropped: result.droppedFaces }, 'more faces than an upload may carry: the largest sent');
      // From here on the detections are the payload: the frame is dropped.
      return deliver({ image: Buffer.from(JSON.stringify(result.body)), capturedAt: frame.capturedAt });
    });
    analysing = turn.catch(() => undefined);
    await turn;
  };

  // Frames left from a previous run go first.
  if (opts.spool.size() > 0) kickDrain();

  return {
    /** Hands one frame to the agent; resolves once it is sent, spooled or refused. */
    offer(frame: Frame): Promise<void> {
      if (stopReason) return Promise.resolve();
      if (opts.analyze) {
        return track(analyseThenDeliver(frame)).catch((err: unknown) => log.error({ err }, 'could not analyse, send or spool a frame'));
      }
      return track(deliver(frame)).then(
        () => undefined,
        (err: unknown) => log.error({ err }, 'could not send or spool a frame'),
      );
    },
    /** Pulls frames from a source until it ends or the agent stops; then stops. */
    async run(source: AsyncIterable<Frame>): Promise<StopReason> {
      for await (const frame of source) {
        if (stopReason) break;
        void this.offer(frame);
      }
      if (!stopReason) {
        // Source ended (finite folder): wait for the spool to empty or a stop.
        while (!stopReason && (pending.size > 0 || opts.spool.size() > 0)) {
          await Promise.race([Promise.allSettled([...pending]), done]);
          if (!stopReason && opts.spool.size() > 0 && !draining) kickDrain();
        }
        await stop('stopped');
      }
      return done;
    },
    stop,
    done,
    stats: () => ({ ...stats.counters, spoolSize: opts.spool.size(), inFlight }),
    /** Set when the agent stopped on a 401. */
    get unauthorizedError(): UnauthorizedError | null {
      return unauthorized;
    },
    get stopped(): boolean {
      return stopReason !== null;
    },
  };
}

export type CameraAgent = ReturnType<typeof createCameraAgent>;
