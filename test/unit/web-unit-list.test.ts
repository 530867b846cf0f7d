import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UnitEvent } from '../../src/realtime/events.ts';
import { applyUnitEvent, mergeUnits } from '../../src/web/unit-list.ts';

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

test('a refetch answered after a live change does not put back what the change replaced', () => {
  // The reconnect's GET read P-11 before the dispatcher's PATCH; the PATCH's event arrived before the GET's answer.
  const shown = [unit('P-11', 'OFF_DUTY'), unit('P-12', 'AVAILABLE')];
  const fetched = [unit('P-11', 'BUSY'), unit('P-12', 'BUSY'), unit('P-13', 'AVAILABLE')];
  const merged = mergeUnits(fetched, shown, new Set(['id-P-11']));
  assert.deepEqual(
    merged.map((u) => `${u.callSign} ${u.status}`),
    ['P-11 OFF_DUTY', 'P-12 BUSY', 'P-13 AVAILABLE'],
  );
  // Without an event during the fetch, the fetch is the truth (what changed while the socket was away).
  assert.deepEqual(mergeUnits(fetched, shown, new Set()), fetched);
});

test('a unit created or deleted while a fetch was on its way stays as its event left it', () => {
  const fetched = [unit('P-11', 'BUSY'), unit('P-12', 'AVAILABLE')];
  // P-12 deleted and P-10 created live, after the GET had read the table.
  let shown = applyUnitEvent(fetched, { id: 'id-P-12', deleted: true });
  shown = applyUnitEvent(shown, unit('P-10', 'AVAILABLE'));
  assert.deepEqual(
    mergeUnits(fetched, shown, new Set(['id-P-12', 'id-P-10'])).map((u) => u.callSign),
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
