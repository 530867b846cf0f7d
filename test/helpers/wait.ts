/**
 * Every wait in a test is bounded and says what did not arrive: a missing event fails its test with a
 * message instead of hanging the run until the runner's limit.
 */
import { once } from 'node:events';
import type { EventEmitter } from 'node:events';

/** Default bound for a wait: generous for a busy 2-core CI machine, far below the runner's per-file limit. */
export const WAIT_TIMEOUT_MS = Number(process.env.TEST_WAIT_TIMEOUT_MS) || 30_000;

export class WaitTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`timed out after ${ms} ms waiting for ${what}`);
    this.name = 'WaitTimeoutError';
  }
}

/** `promise`, or a WaitTimeoutError naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WaitTimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Asks `check` every `everyMs` until it holds (for state only an API shows), or a WaitTimeoutError naming `what`. */
export async function pollUntil(check: () => Promise<boolean>, what: string, ms = WAIT_TIMEOUT_MS, everyMs = 200): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new WaitTimeoutError(what, ms);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** events.once with a bound: the event's arguments, or a WaitTimeoutError naming `what`. */
export function onceWithin(emitter: EventEmitter, event: string, what: string, ms = WAIT_TIMEOUT_MS): Promise<unknown[]> {
  const ac = new AbortController();
  return withTimeout(once(emitter, event, { signal: ac.signal }), what, ms).catch((err: unknown) => {
    ac.abort(); // drop the listener once the wait has failed
    throw err;
  });
}

/** Resolves when a socket.io-client socket connects; rejects on connect_error or after `ms`. */
export function socketConnected(
  socket: { once(event: 'connect', fn: () => void): unknown; once(event: 'connect_error', fn: (err: Error) => void): unknown },
  what = 'the socket to connect',
  ms = WAIT_TIMEOUT_MS,
): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    }),
    what,
    ms,
  );
}
