import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zoneCoverage } from '../../src/domain/zone-coverage.ts';

test('zone coverage: dispatchers who see every zone count for each; a zone only a dispatcher or a setting names shows with 0 cameras', () => {
  const rows = zoneCoverage(
    [
      { zone: null, cameras: 2, openAlerts: 1 },
      { zone: 'Sur', cameras: 1, openAlerts: 0 },
      { zone: 'Centro', cameras: 3, openAlerts: 4 },
    ],
    [{ zones: ['Centro'] }, { zones: ['Centro', 'Oeste'] }, { zones: [] }],
    [{ zone: 'Centro', by: 'webhook a' }, { zone: 'Este', by: 'directory' }, { zone: 'Centro', by: 'directory' }],
  );
  assert.deepEqual(rows, [
    { zone: 'Centro', cameras: 3, openAlerts: 4, dispatchers: 3, zonedDispatchers: 2, namedBy: ['webhook a', 'directory'] },
    { zone: 'Este', cameras: 0, openAlerts: 0, dispatchers: 1, zonedDispatchers: 0, namedBy: ['directory'] },
    { zone: 'Oeste', cameras: 0, openAlerts: 0, dispatchers: 2, zonedDispatchers: 1, namedBy: [] },
    { zone: 'Sur', cameras: 1, openAlerts: 0, dispatchers: 1, zonedDispatchers: 0, namedBy: [] },
    { zone: null, cameras: 2, openAlerts: 1, dispatchers: 1, zonedDispatchers: 0, namedBy: [] },
  ]);
  // Every dispatcher limited elsewhere: Sur's alerts and the zoneless cameras' reach no dispatcher.
  const gaps = zoneCoverage([{ zone: 'Sur', cameras: 1, openAlerts: 2 }, { zone: null, cameras: 1, openAlerts: 0 }], [{ zones: ['Centro'] }]);
  assert.deepEqual(gaps.filter((z) => z.cameras > 0 && z.dispatchers === 0).map((z) => z.zone), ['Sur', null]);
  assert.deepEqual(zoneCoverage([], []), []);
});
