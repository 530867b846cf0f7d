import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UnitEvent } from '../../src/realtime/events.ts';
import { liveDuringFetch } from '../../src/web/live-during-fetch.ts';
import { applyUnitEvent, refetchedUnits } from '../../src/web/unit-list.ts';

const unit = (callSign: string, status: UnitEvent['status']): UnitEvent => ({
  id: `id-${callSign}`,
  callSign,
  status,
  latitude: null,
  longitude: null,
  positionAt: null,
  members: [],
  openAlertIds: [],
  createdAt: '2026-12-07T08:00:00.000Z',
  updatedAt: '2026-12-07T08:00:00.000Z',
});

/** A request answered only when the test says so. */
function held<T>() {
  let answer!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (answer = resolve));
  return { request: () => promise, answer };
}

test('a refetch answered after a live change does not put back what the change replaced', async () => {
  const events = liveDuringFetch<UnitEvent>();
  events.seen(unit('P-11', 'AVAILABLE')); // before the request: not its business
  // The reconnect's GET reads P-11 before the dispatcher's PATCH; the PATCH's event arrives before the GET's answer.
  const get = held<UnitEvent[]>();
  const refetch = events.fetch(get.request);
  events.seen(unit('P-11', 'OFF_DUTY'));
  get.answer([unit('P-12', 'BUSY'), unit('P-11', 'BUSY'), unit('P-13', 'AVAILABLE')]);
  const { answer, live } = await refetch;
  assert.deepEqual(
    refetchedUnits(answer, live).map((u) => `${u.callSign} ${u.status}`),
    ['P-11 OFF_DUTY', 'P-12 BUSY', 'P-13 AVAILABLE'],
  );
  // Without an event meanwhile, the answer is the truth (what changed while the socket was away).
  const quiet = await events.fetch(async () => [unit('P-11', 'BUSY')]);
  assert.deepEqual(quiet.live, []);
  assert.deepEqual(refetchedUnits(quiet.answer, quiet.live), [unit('P-11', 'BUSY')]);
});

test('overlapping requests each get the events from their own start; a failed one lets go of them', async () => {
  const events = liveDuringFetch<string>();
  const first = held<string>();
  const second = held<string>();
  const a = events.fetch(first.request);
  events.seen('e1');
  const b = events.fetch(second.request);
  events.seen('e2');
  second.answer('b');
  assert.deepEqual(await b, { answer: 'b', live: ['e2'] });
  events.seen('e3');
  first.answer('a');
  assert.deepEqual(await a, { answer: 'a', live: ['e1', 'e2', 'e3'] });
  await assert.rejects(events.fetch(() => Promise.reject(new Error('offline'))), /offline/);
  events.seen('e4'); // nobody is waiting: kept nowhere
  assert.deepEqual(await events.fetch(async () => 'c'), { answer: 'c', live: [] });
});

test('a unit created or deleted while a refetch was on its way stays as its event left it', () => {
  const fetched = [unit('P-11', 'BUSY'), unit('P-12', 'AVAILABLE')];
  assert.deepEqual(
    refetchedUnits(fetched, [{ id: 'id-P-12', deleted: true }, unit('P-10', 'AVAILABLE')]).map((u) => u.callSign),
    ['P-10', 'P-11'],
  );
});

test('live events replace, add in call-sign order and delete', () => {
  let list = applyUnitEvent([unit('P-12', 'AVAILABLE')], unit('P-11', 'BUSY'));
  assert.deepEqual(list.map((u) => u.callSign), ['P-11', 'P-12']);
  list = applyUnitEvent(list, unit('P-11', 'OFF_DUTY'));
  assert.deepEqual(list.map((u) => `${u.callSign} ${u.status}`), ['P-11 OFF_DUTY', 'P-12 AVAILABLE']);
  assert.deepEqual(applyUnitEvent(list, { id: 'id-P-12', deleted: true }).map((u) => u.callSign), ['P-11']);
});
