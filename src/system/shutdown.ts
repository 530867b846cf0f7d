/**
 * Bounded shutdown of a worker process. SIGTERM / SIGINT / the supervisor's
 * death request a graceful stop (finish in-flight jobs, close connections);
 * a deadline then exits the process whatever is still pending — closing a
 * BullMQ worker or Prisma waits forever while Redis or the database is
 * unreachable, and an orphan that ignores SIGTERM is what issue 14 found.
 * Jobs cut off by the deadline are not lost: their lock expires and a live
 * worker takes them again (MASKWATCH_WORKER_LOCK_MS).
 */
import type { Logger } from 'pino';
import { watchParent } from './parent-watch.ts';

export type ShutdownReason = NodeJS.Signals | 'parent-exit';

export interface ShutdownTriggerOptions {
  /** Time from the request to a forced exit. */
  timeoutMs: number;
  /** Exit with the parent (IPC disconnect, else ppid polling when pollPpid). Default true. */
  watchParent?: boolean;
  /** Poll the parent pid even without an IPC channel (MASKWATCH_EXIT_WITH_PARENT=1). */
  pollPpid?: boolean;
  exit?: (code: number) => void;
}

export interface ShutdownTrigger {
  /** Resolves with the reason on the first request. */
  requested: Promise<ShutdownReason>;
  setLogger(logger: Logger): void;
  setTimeoutMs(ms: number): void;
  /** The graceful stop finished: the deadline no longer keeps the process alive. */
  done(): void;
}

export function createShutdownTrigger(opts: ShutdownTriggerOptions): ShutdownTrigger {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let logger: Logger | undefined;
  let timeoutMs = opts.timeoutMs;
  let deadline: NodeJS.Timeout | undefined;
  let finished = false;
  let resolve!: (reason: ShutdownReason) => void;
  const requested = new Promise<ShutdownReason>((r) => (resolve = r));

  const request = (reason: ShutdownReason) => {
    if (deadline) {
      // A second signal means "now".
      if (reason !== 'parent-exit') exit(130);
      return;
    }
    stopWatching();
    deadline = setTimeout(() => {
      if (finished) {
        logger?.warn('handles still open after shutdown; exiting');
        exit(0);
        return;
      }
      logger?.error({ timeoutMs, reason }, 'graceful shutdown timed out; exiting (unfinished jobs are recovered by other workers once their lock expires)');
      exit(1);
    }, timeoutMs);
    logger?.info({ reason, timeoutMs }, 'shutdown requested');
    resolve(reason);
  };
  const onSignal = (signal: NodeJS.Signals) => request(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const stopWatching =
    opts.watchParent === false
      ? () => undefined
      : watchParent({
          pollPpid: opts.pollPpid || undefined,
          onParentExit(how) {
            logger?.warn({ how }, 'supervisor process is gone; stopping');
            request('parent-exit');
          },
        });

  return {
    requested,
    setLogger(l) {
      logger = l;
    },
    setTimeoutMs(ms) {
      timeoutMs = ms;
    },
    done() {
      finished = true;
      stopWatching();
      deadline?.unref();
    },
  };
}
