/**
 * The officer's outbox. Every step and note tapped on the phone is written here first and then sent, oldest
 * first, one at a time. What cannot be sent yet (no connection, the session ended, the server busy) stays on the
 * phone, in localStorage under the user's id, across a reload, a tab the phone killed and a new sign-in, and is
 * sent as soon as the server answers again, with the time it was tapped. A refusal (the alert moved on, was
 * closed, is no longer the unit's) takes it out and is reported to the view. Entries older than
 * OUTBOX_MAX_AGE_MS are dropped unsent: the street has moved on, and the phone keeps no notes longer than a shift.
 */
import type { AlertEvent } from '../realtime/events.ts';
import { ApiError, isNetworkError } from './api.ts';
import type { OfficerStep } from './workflow.ts';

export const OUTBOX_MAX_AGE_MS = 12 * 3600_000;

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
  /** Sends one entry; answers the alert as the server has it after. */
  send: (entry: OutboxEntry) => Promise<AlertEvent>;
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

const storageKey = (userId: string) => `maskwatch.outbox.${userId}`;

function read(storage: Storage, userId: string): OutboxEntry[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(storageKey(userId)) ?? '[]');
    return Array.isArray(parsed) ? (parsed as OutboxEntry[]).filter((e) => e && typeof e.key === 'string' && typeof e.alertId === 'string') : [];
  } catch {
    return []; // unreadable (another version, a full disk mid-write): nothing to send
  }
}

export function openOutbox(deps: OutboxDeps): Outbox {
  const all = read(deps.storage, deps.userId);
  const fresh = all.filter((e) => deps.now() - Date.parse(e.tappedAt) < OUTBOX_MAX_AGE_MS);
  const expired = all.filter((e) => !fresh.includes(e));
  let queue = fresh;
  const save = () => {
    try {
      if (queue.length) deps.storage.setItem(storageKey(deps.userId), JSON.stringify(queue));
      else deps.storage.removeItem(storageKey(deps.userId));
    } catch {
      // storage full or refused (a private window): kept in this page only, still sent
    }
  };
  if (expired.length) save();
  const take = (key: string) => {
    queue = queue.filter((e) => e.key !== key);
    save();
  };

  let flushing: Promise<void> | null = null;
  async function drain(): Promise<void> {
    for (let next = queue[0]; next; next = queue[0]) {
      const entry = next;
      try {
        const alert = await deps.send(entry);
        take(entry.key);
        deps.sent(entry, alert);
      } catch (err) {
        if (worthRetrying(err)) {
          // Everything waiting is held up now, the entries behind this one too: all will say when they were tapped.
          if (queue.some((e) => !e.late)) {
            queue = queue.map((e) => ({ ...e, late: true }));
            save();
          }
          return;
        }
        take(entry.key);
        deps.refused(entry, err);
      } finally {
        deps.changed();
      }
    }
  }

  const outbox: Outbox = {
    expired,
    add(entry) {
      queue = [...queue, { ...entry, key: deps.newKey(), tappedAt: new Date(deps.now()).toISOString(), late: false } as OutboxEntry];
      save();
      deps.changed();
      void outbox.flush();
    },
    flush() {
      // One sender at a time: a second call while sending finds the same queue.
      flushing ??= drain().finally(() => (flushing = null));
      return flushing;
    },
    entries(alertId) {
      return alertId === undefined ? queue : queue.filter((e) => e.alertId === alertId);
    },
  };
  return outbox;
}
