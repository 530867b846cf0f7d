/**
 * The officer's outbox. Every step and note tapped on the phone is written here first and then sent, oldest
 * first, one at a time. What cannot be sent yet (no connection, the session ended, the server busy) stays on the
 * phone, in localStorage under the user's id, across a reload, a tab the phone killed and a new sign-in, and is
 * sent as soon as the server answers again, with the time it was tapped. Every tab of the officer shares it, and one
 * tab at a time sends. A refusal (the alert moved on, was closed, is no longer the unit's) takes it out and is
 * reported to the view. Entries older than OUTBOX_MAX_AGE_MS are dropped unsent: the street has moved on, and the
 * phone keeps no notes longer than a shift.
 */
import type { AlertEvent } from '../realtime/events.ts';
import { ApiError, isNetworkError } from './api.ts';
import { stepOf, type OfficerStep } from './workflow.ts';

export const OUTBOX_MAX_AGE_MS = 12 * 3600_000;
/**
 * A send without an answer by then is given up and tried again later, as without a connection: a request stuck on
 * a dead mobile connection would otherwise hold up the outbox, of every tab, for minutes.
 */
export const OUTBOX_SEND_TIMEOUT_MS = 20_000;

interface EntryBase {
  /** Unique; a note's Idempotency-Key, so a note whose answer was lost is recorded once. */
  key: string;
  alertId: string;
  /** The alert's camera, to name it when the entry is refused or dropped after its card has gone. */
  cameraName: string;
  /** When it was tapped, by the phone's clock (ISO). */
  tappedAt: string;
  /** Held up (a try, its own or one before it, failed for want of a connection): the next tries say when it was tapped. */
  late: boolean;
}
export type OutboxEntry = (EntryBase & { kind: 'step'; action: OfficerStep['action']; body: Record<string, string> }) | (EntryBase & { kind: 'note'; text: string });
export type NewOutboxEntry = Omit<OutboxEntry & { kind: 'step' }, 'key' | 'tappedAt' | 'late'> | Omit<OutboxEntry & { kind: 'note' }, 'key' | 'tappedAt' | 'late'>;

/** Kept to try again: fetch's own failure, the session ended (sent after the next sign-in), a timeout, the server busy. */
export function worthRetrying(err: unknown): boolean {
  if (isNetworkError(err)) return true;
  return err instanceof ApiError && (err.status === 401 || err.status === 408 || err.status === 429 || err.status >= 500);
}

export interface OutboxDeps {
  storage: Storage;
  userId: string;
  now: () => number;
  newKey: () => string;
  /**
   * Runs a round of sending unless another tab of the same officer is sending (then skips it: that tab sends what
   * this one wrote, and this one's next round finds it gone). The browser's Web Locks where there are some.
   */
  exclusive: (run: () => Promise<void>) => Promise<void>;
  /** Sends one entry, giving up when `signal` aborts; answers the alert as the server has it after. */
  send: (entry: OutboxEntry, signal: AbortSignal) => Promise<AlertEvent>;
  /** OUTBOX_SEND_TIMEOUT_MS in the dashboard. */
  sendTimeoutMs: number;
  sent: (entry: OutboxEntry, alert: AlertEvent) => void;
  refused: (entry: OutboxEntry, err: unknown) => void;
  /** Anything was added, sent, refused or marked late. */
  changed: () => void;
}

export interface Outbox {
  /** Writes it down, then sends what is waiting. */
  add(entry: NewOutboxEntry): void;
  /** Sends what is waiting, in order, until the first failure worth retrying. */
  flush(): Promise<void>;
  entries(alertId?: string): readonly OutboxEntry[];
  /** Dropped unsent when the outbox was opened: older than OUTBOX_MAX_AGE_MS. */
  readonly expired: readonly OutboxEntry[];
}

/** Where a user's outbox is kept; another tab's `storage` event on this key means its entries changed. */
export const outboxStorageKey = (userId: string) => `maskwatch.outbox.${userId}`;

function parse(stored: string | null): OutboxEntry[] {
  try {
    const parsed: unknown = JSON.parse(stored ?? '[]');
    return Array.isArray(parsed) ? (parsed as OutboxEntry[]).filter((e) => e && typeof e.key === 'string' && typeof e.alertId === 'string') : [];
  } catch {
    return []; // unreadable (another version, a full disk mid-write): nothing to send
  }
}

/** An entry as the officer would name it: "On scene at Callao", "a note at Callao". */
export function describeEntry(e: OutboxEntry): string {
  return `${e.kind === 'step' ? stepOf(e.action).label : 'a note'} at ${e.cameraName}`;
}

/** What waits in a user's outbox, as stored (for a page without the outbox open: signing out). */
export function storedOutbox(storage: Storage, userId: string): OutboxEntry[] {
  return parse(storage.getItem(outboxStorageKey(userId)));
}

/** A navigator.locks request that skips instead of waiting; without Web Locks (plain HTTP), each tab sends alone. */
export function webLocksExclusive(name: string, locks: LockManager | undefined): OutboxDeps['exclusive'] {
  if (!locks) return (run) => run();
  return (run) => locks.request(name, { ifAvailable: true }, (lock) => (lock ? run() : undefined));
}

export function openOutbox(deps: OutboxDeps): Outbox {
  const key = outboxStorageKey(deps.userId);
  // The store is the one copy every tab of this officer shares, so each change reads it afresh and writes it back at
  // once (tabs run one task at a time, so nothing comes between the two). Only if the store refuses (a private
  // window, a full disk) is the queue kept in this page instead.
  let inPage: OutboxEntry[] | null = null;
  const load = (): OutboxEntry[] => inPage ?? storedOutbox(deps.storage, deps.userId);
  const save = (queue: OutboxEntry[]) => {
    try {
      if (queue.length) deps.storage.setItem(key, JSON.stringify(queue));
      else deps.storage.removeItem(key);
      inPage = null;
    } catch {
      inPage = queue; // still sent, from this page
    }
  };
  const update = (change: (queue: OutboxEntry[]) => OutboxEntry[]) => save(change(load()));

  const all = load();
  const expired = all.filter((e) => !(deps.now() - Date.parse(e.tappedAt) < OUTBOX_MAX_AGE_MS)); // an unreadable time too
  if (expired.length) update((queue) => queue.filter((e) => !expired.some((x) => x.key === e.key)));
  const take = (entryKey: string) => update((queue) => queue.filter((e) => e.key !== entryKey));

  async function drain(): Promise<void> {
    for (let next = load()[0]; next; next = load()[0]) {
      const entry = next;
      // The deadline as AbortSignal.timeout words it (a TimeoutError), on a timer that counts as pending work in
      // Node too: Node's AbortSignal.timeout does not, so a run with nothing else to wait for ended before it fired.
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(new DOMException('The send timed out', 'TimeoutError')), deps.sendTimeoutMs);
      try {
        const alert = await deps.send(entry, deadline.signal);
        take(entry.key);
        deps.sent(entry, alert);
      } catch (err) {
        if (worthRetrying(err)) {
          // Everything waiting is held up now, the entries behind this one too: all will say when they were tapped.
          if (load().some((e) => !e.late)) update((queue) => queue.map((e) => ({ ...e, late: true })));
          return;
        }
        take(entry.key);
        deps.refused(entry, err);
      } finally {
        clearTimeout(timer);
        deps.changed();
      }
    }
  }

  let flushing: Promise<void> | null = null;
  const outbox: Outbox = {
    expired,
    add(entry) {
      update((queue) => [...queue, { ...entry, key: deps.newKey(), tappedAt: new Date(deps.now()).toISOString(), late: false } as OutboxEntry]);
      deps.changed();
      void outbox.flush();
    },
    flush() {
      // One sender at a time: in this page, a second call while sending finds the same round; across tabs, the lock.
      flushing ??= deps.exclusive(drain).finally(() => (flushing = null));
      return flushing;
    },
    entries(alertId) {
      const queue = load();
      return alertId === undefined ? queue : queue.filter((e) => e.alertId === alertId);
    },
  };
  return outbox;
}
