/** The officer's outbox (src/web/outbox.ts): kept across a reload, sent in order, retried, refusals reported, old entries dropped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/web/api.ts';
import { openOutbox, OUTBOX_MAX_AGE_MS, worthRetrying, type OutboxDeps, type OutboxEntry } from '../../src/web/outbox.ts';
import type { AlertEvent } from '../../src/realtime/events.ts';
import { alertEvent } from '../helpers/alert-event.ts';

/** localStorage's interface over a Map: what the page would keep across a reload. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(i: number) {
    return [...this.items.keys()][i] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const offline = () => new TypeError('Failed to fetch');

/** Web Locks' ifAvailable request as the tabs of one browser see it: a round while another runs is skipped. */
function sharedLock(): OutboxDeps['exclusive'] {
  let held = false;
  return async (run) => {
    if (held) return;
    held = true;
    try {
      await run();
    } finally {
      held = false;
    }
  };
}
const T0 = Date.parse('2026-12-07T10:00:00Z');

/** An outbox whose sends are answered by `answer` (an error is thrown), recording what was sent and reported. */
function harness(
  storage: Storage,
  answer: (e: OutboxEntry) => Error | null | 'no answer',
  opts: { now?: () => number; userId?: string; tab?: string; exclusive?: OutboxDeps['exclusive']; sendTimeoutMs?: number } = {},
) {
  const sent: OutboxEntry[] = [];
  const recorded: string[] = [];
  const refused: [string, unknown][] = [];
  let keys = 0;
  const deps: OutboxDeps = {
    storage,
    userId: opts.userId ?? 'u1',
    now: opts.now ?? (() => T0),
    newKey: () => `${opts.tab ?? ''}k${++keys}`,
    exclusive: opts.exclusive ?? ((run) => run()),
    send: async (e, signal) => {
      sent.push(e);
      const err = answer(e);
      // A request that hangs (a dead mobile connection) until the outbox gives up on it.
      if (err === 'no answer') return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
      if (err) throw err;
      return alertEvent(e.alertId, '2026-12-07T09:59:00Z') as AlertEvent;
    },
    sendTimeoutMs: opts.sendTimeoutMs ?? 60_000,
    sent: (e) => recorded.push(e.key),
    refused: (e, err) => refused.push([e.key, err]),
    changed: () => undefined,
  };
  return { outbox: openOutbox(deps), sent, recorded, refused };
}

test('what cannot be sent stays on the phone, in order, across a reload, and is sent with its tap time once the server answers', async () => {
  const storage = new MemoryStorage();
  let online = false;
  const first = harness(storage, () => (online ? null : offline()));
  first.outbox.add({ kind: 'step', alertId: 'a1', cameraName: 'Callao', action: 'acknowledge', body: {} });
  await first.outbox.flush();
  first.outbox.add({ kind: 'note', alertId: 'a1', cameraName: 'Callao', text: 'into the metro' });
  await first.outbox.flush();
  assert.deepEqual(first.recorded, []);
  assert.deepEqual(
    first.outbox.entries('a1').map((e) => [e.kind, e.late]),
    [
      ['step', true],
      ['note', true],
    ],
    'the first failure stops the round: the note waits behind the step, untried, and is late too',
  );
  assert.deepEqual(first.outbox.entries('other'), []);

  // The tab is gone (reloaded, killed): a new page of the same user finds both, and sends them in order.
  online = true;
  const second = harness(storage, () => null);
  assert.deepEqual(
    second.outbox.entries().map((e) => [e.key, e.kind, e.tappedAt]),
    [
      ['k1', 'step', new Date(T0).toISOString()],
      ['k2', 'note', new Date(T0).toISOString()],
    ],
  );
  await second.outbox.flush();
  assert.deepEqual(second.recorded, ['k1', 'k2']);
  assert.deepEqual(
    second.sent.map((e) => e.late),
    [true, true],
    'both go out as late: the page adds when they were tapped',
  );
  assert.deepEqual(second.outbox.entries(), []);
  assert.equal(storage.length, 0, 'nothing left on the phone once sent');

  // Another user of the same phone never sends (or sees) them.
  const storage2 = new MemoryStorage();
  harness(storage2, () => offline()).outbox.add({ kind: 'note', alertId: 'a1', cameraName: 'Callao', text: 'x' });
  assert.deepEqual(harness(storage2, () => null, { userId: 'u2' }).outbox.entries(), []);
});

test('a refusal takes the entry out and is reported; the rest is still sent', async () => {
  const storage = new MemoryStorage();
  const conflict = new ApiError(409, 'Conflict', 'the alert is closed', 'alert-closed');
  const h = harness(storage, (e) => (e.kind === 'note' ? conflict : null));
  h.outbox.add({ kind: 'note', alertId: 'a1', cameraName: 'Callao', text: 'too late' });
  h.outbox.add({ kind: 'step', alertId: 'a2', cameraName: 'Sol', action: 'acknowledge', body: {} });
  await h.outbox.flush();
  assert.deepEqual(h.refused, [['k1', conflict]]);
  assert.deepEqual(h.recorded, ['k2']);
  assert.deepEqual(h.outbox.entries(), []);
});

test('worth retrying: no connection, an ended session, a timeout, a busy server; not a refusal', () => {
  assert.equal(worthRetrying(offline()), true);
  assert.equal(worthRetrying(new DOMException('signal timed out', 'TimeoutError')), true, 'no answer in time');
  for (const status of [401, 408, 429, 500, 503]) assert.equal(worthRetrying(new ApiError(status, 'x', undefined)), true, String(status));
  for (const status of [400, 403, 404, 409]) assert.equal(worthRetrying(new ApiError(status, 'x', undefined)), false, String(status));
  assert.equal(worthRetrying(new Error('a bug')), false);
});

test('entries older than the limit are dropped unsent when the outbox is opened, and said; one send at a time', async () => {
  const storage = new MemoryStorage();
  let now = T0;
  const h = harness(storage, () => offline(), { now: () => now });
  h.outbox.add({ kind: 'step', alertId: 'a1', cameraName: 'Callao', action: 'on_scene', body: {} });
  now = T0 + 60_000;
  h.outbox.add({ kind: 'note', alertId: 'a1', cameraName: 'Callao', text: 'x' });
  await h.outbox.flush();

  now = T0 + OUTBOX_MAX_AGE_MS + 30_000;
  const later = harness(storage, () => null, { now: () => now });
  assert.deepEqual(
    later.outbox.expired.map((e) => e.key),
    ['k1'],
  );
  assert.deepEqual(
    later.outbox.entries().map((e) => e.key),
    ['k2'],
  );
  // Two flushes at once send each entry once.
  await Promise.all([later.outbox.flush(), later.outbox.flush()]);
  assert.deepEqual(
    later.sent.map((e) => e.key),
    ['k2'],
  );

  storage.setItem('maskwatch.outbox.u1', '{not json');
  assert.deepEqual(harness(storage, () => null).outbox.entries(), [], 'an unreadable outbox is empty, not a crash');
});

test('two tabs of one officer share one outbox: what either wrote is kept, in order, and sent once by whichever tab sends', async () => {
  const storage = new MemoryStorage();
  const lock = sharedLock();
  let online = false;
  const answer = () => (online ? null : offline());
  const a = harness(storage, answer, { tab: 'A', exclusive: lock });
  const b = harness(storage, answer, { tab: 'B', exclusive: lock });
  a.outbox.add({ kind: 'note', alertId: 'a1', cameraName: 'Callao', text: 'from tab A' });
  b.outbox.add({ kind: 'step', alertId: 'a1', cameraName: 'Callao', action: 'on_scene', body: {} });
  a.outbox.add({ kind: 'note', alertId: 'a1', cameraName: 'Callao', text: 'A again' });
  await Promise.all([a.outbox.flush(), b.outbox.flush()]);
  for (const tab of [a, b]) {
    assert.deepEqual(
      tab.outbox.entries().map((e) => e.key),
      ['Ak1', 'Bk1', 'Ak2'],
      'each tab sees what the other wrote: neither overwrote the other',
    );
  }

  online = true;
  await Promise.all([a.outbox.flush(), b.outbox.flush()]);
  assert.deepEqual(
    [...a.recorded, ...b.recorded],
    ['Ak1', 'Bk1', 'Ak2'],
    'sent once each, in order: the other tab skipped its round while one sent',
  );
  assert.equal(storage.length, 0);

  // A tab closed before it could send leaves its entries to the other.
  online = false;
  const c = harness(storage, answer, { tab: 'C', exclusive: lock });
  c.outbox.add({ kind: 'note', alertId: 'a2', cameraName: 'Sol', text: 'written in a tab since closed' });
  await c.outbox.flush(); // its one try, without a connection
  online = true;
  await b.outbox.flush();
  assert.deepEqual(
    b.sent.map((e) => [e.key, e.late]).slice(-1),
    [['Ck1', true]],
  );
  assert.deepEqual(c.recorded, []);
});

test('a store that refuses to write (a private window, a full disk) keeps the outbox in the page, still sent', async () => {
  const refusing = new MemoryStorage();
  refusing.setItem = () => {
    throw new DOMException('quota', 'QuotaExceededError');
  };
  let online = false;
  const h = harness(refusing, () => (online ? null : offline()));
  h.outbox.add({ kind: 'note', alertId: 'a1', cameraName: 'Callao', text: 'x' });
  await h.outbox.flush();
  assert.deepEqual(
    h.outbox.entries().map((e) => [e.key, e.late]),
    [['k1', true]],
  );
  online = true;
  await h.outbox.flush();
  assert.deepEqual(h.recorded, ['k1']);
  assert.deepEqual(h.outbox.entries(), []);
});

test('a send without an answer is given up after the timeout and kept, late, for the next round', async () => {
  const storage = new MemoryStorage();
  const lock = sharedLock();
  let answering = false;
  const stuck = harness(storage, () => (answering ? null : 'no answer'), { sendTimeoutMs: 5, exclusive: lock });
  stuck.outbox.add({ kind: 'step', alertId: 'a1', cameraName: 'Callao', action: 'en_route', body: {} });
  await stuck.outbox.flush();
  assert.deepEqual(
    stuck.outbox.entries().map((e) => [e.key, e.late]),
    [['k1', true]],
    'kept, and sent as late next time',
  );
  assert.deepEqual(stuck.refused, []);
  // The round is over, so the lock is free: another tab sends it now.
  answering = true;
  const other = harness(storage, () => null, { tab: 'B', exclusive: lock });
  await other.outbox.flush();
  assert.deepEqual(other.recorded, ['k1']);
});
