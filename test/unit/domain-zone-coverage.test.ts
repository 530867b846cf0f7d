import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zoneCoverage } from '../../src/domain/zone-coverage.ts';

test('zone coverage: dispatchers who see every zone count for each; a zone only a dispatcher names shows with 0 cameras', () => {
  const rows = zoneCoverage(
    [
      { zone: null, cameras: 2, openAlerts: 1 },
      { zone: 'Sur', cameras: 1, openAlerts: 0 },
      { zone: 'Centro', cameras: 3, openAlerts: 4 },
    ],
    [{ zones: ['Centro'] }, { zones: ['Centro', 'Oeste'] }, { zones: [] }],
  );
  assert.deepEqual(rows, [
    { zone: 'Centro', cameras: 3, openAlerts: 4, dispatchers: 3, zonedDispatchers: 2 },
    { zone: 'Oeste', cameras: 0, openAlerts: 0, dispatchers: 2, zonedDispatchers: 1 },
    { zone: 'Sur', cameras: 1, openAlerts: 0, dispatchers: 1, zonedDispatchers: 0 },
    { zone: null, cameras: 2, openAlerts: 1, dispatchers: 1, zonedDispatchers: 0 },
  ]);
  // Every dispatcher limited elsewhere: Sur's alerts and the zoneless cameras' reach no dispatcher.
  const gaps = zoneCoverage([{ zone: 'Sur', cameras: 1, openAlerts: 2 }, { zone: null, cameras: 1, openAlerts: 0 }], [{ zones: ['Centro'] }]);
  assert.deepEqual(gaps.filter((z) => z.cameras > 0 && z.dispatchers === 0).map((z) => z.zone), ['Sur', null]);
  assert.deepEqual(zoneCoverage([], []), []);
});
