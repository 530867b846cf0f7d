import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GeoInputError, haversineMeters, nearestAvailableUnits, type UnitPosition } from '../../src/domain/geo.ts';

describe('haversineMeters', () => {
  it('is zero for the same point and symmetric', () => {
    const p = { latitude: 48.8566, longitude: 2.3522 };
    assert.equal(haversineMeters(p, p), 0);
    const q = { latitude: 51.5074, longitude: -0.1278 };
    assert.equal(haversineMeters(p, q), haversineMeters(q, p));
  });
  it('matches known distances', () => {
    // Paris – London ≈ 343.5 km (great circle)
    const d = haversineMeters({ latitude: 48.8566, longitude: 2.3522 }, { latitude: 51.5074, longitude: -0.1278 });
    assert.ok(Math.abs(d - 343_550) < 1_000, `got ${d}`);
    // one degree of latitude ≈ 111.2 km
    const deg = haversineMeters({ latitude: 0, longitude: 0 }, { latitude: 1, longitude: 0 });
    assert.ok(Math.abs(deg - 111_195) < 10, `got ${deg}`);
    // across the antimeridian: 0.2° of longitude at the equator, not 359.8°
    const wrap = haversineMeters({ latitude: 0, longitude: 179.9 }, { latitude: 0, longitude: -179.9 });
    assert.ok(Math.abs(wrap - 22_239) < 10, `got ${wrap}`);
  });
  it('rejects coordinates out of range', () => {
    assert.throws(() => haversineMeters({ latitude: 91, longitude: 0 }, { latitude: 0, longitude: 0 }), GeoInputError);
    assert.throws(() => haversineMeters({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: Number.NaN }), /longitude/);
  });
});

describe('nearestAvailableUnits', () => {
  const camera = { latitude: 40.0, longitude: -3.0 };
  const units: UnitPosition[] = [
    { id: 'far', callSign: 'P-3', status: 'AVAILABLE', latitude: 40.05, longitude: -3.0 },
    { id: 'near', callSign: 'P-1', status: 'AVAILABLE', latitude: 40.001, longitude: -3.0 },
    { id: 'busy', callSign: 'P-0', status: 'BUSY', latitude: 40.0, longitude: -3.0 },
    { id: 'off', callSign: 'P-9', status: 'OFF_DUTY', latitude: 40.0, longitude: -3.0 },
    { id: 'nowhere', callSign: 'P-7', status: 'AVAILABLE', latitude: null, longitude: null },
    { id: 'mid', callSign: 'P-2', status: 'AVAILABLE', latitude: 40.0, longitude: -3.01 },
  ];
  it('orders available units with a position by distance, nearest first', () => {
    const ranked = nearestAvailableUnits(camera, units);
    assert.deepEqual(ranked.map((u) => u.id), ['near', 'mid', 'far']);
    assert.ok(Math.abs(ranked[0]!.distanceMeters - 111.2) < 1);
  });
  it('limits the list and keeps extra unit fields', () => {
    const ranked = nearestAvailableUnits(camera, units.map((u) => ({ ...u, members: 2 })), 1);
    assert.equal(ranked.length, 1);
    assert.equal(ranked[0]!.members, 2);
  });
  it('breaks distance ties by call sign', () => {
    const twins: UnitPosition[] = [
      { id: 'b', callSign: 'B', status: 'AVAILABLE', latitude: 40.01, longitude: -3.0 },
      { id: 'a', callSign: 'A', status: 'AVAILABLE', latitude: 40.01, longitude: -3.0 },
    ];
    assert.deepEqual(nearestAvailableUnits(camera, twins).map((u) => u.id), ['a', 'b']);
  });
  it('rejects a bad origin', () => {
    assert.throws(() => nearestAvailableUnits({ latitude: 0, longitude: 200 }, units), GeoInputError);
  });
});
