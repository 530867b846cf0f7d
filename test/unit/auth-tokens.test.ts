import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken, hashSecret, newCameraApiKey, newSessionToken, secretHint } from '../../src/auth/tokens.ts';
import { alertScopeOf, isRole, maySeeAlert, normaliseZones, parseZones } from '../../src/auth/roles.ts';
import { roomsFor } from '../../src/realtime/server.ts';
import { accessFromGroups, groupsOfClaim, type DirectoryGroupMap } from '../../src/auth/directory-groups.ts';
import { DISPATCH_ROOM, UNIT_BOARD_ROOM, unitRoom, zoneRoom } from '../../src/realtime/rooms.ts';

test('camera keys and session tokens: prefixed, 256-bit, unique', () => {
  const keys = new Set(Array.from({ length: 1000 }, () => newCameraApiKey()));
  assert.equal(keys.size, 1000);
  for (const k of keys) assert.match(k, /^mwc_[A-Za-z0-9_-]{43}$/);
  assert.match(newSessionToken(), /^mwt_[A-Za-z0-9_-]{43}$/);
});

test('secrets are stored as sha256 hex; the hint is the last 4 characters', () => {
  assert.equal(hashSecret('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(secretHint('mwc_abcdefgh'), 'efgh');
});

test('bearerToken parses only well-formed Authorization headers', () => {
  assert.equal(bearerToken('Bearer mwc_abcdefghijk'), 'mwc_abcdefghijk');
  assert.equal(bearerToken('bearer   mwc_abcdefghijk  '), 'mwc_abcdefghijk');
  assert.equal(bearerToken(undefined), null);
  assert.equal(bearerToken('Basic dXNlcjpwYXNz'), null);
  assert.equal(bearerToken('Bearer '), null);
  assert.equal(bearerToken('Bearer short'), null);
  assert.equal(bearerToken('Bearer has spaces inside'), null);
});

test('role guard helpers', () => {
  assert.equal(isRole('ADMIN'), true);
  assert.equal(isRole('admin'), false);
  assert.equal(isRole(undefined), false);
});

test('who sees an alert: admins and dispatchers without zones all, dispatchers with zones their zones, officers their unit', () => {
  const admin = { role: 'ADMIN', unitId: null, zones: [] } as const;
  const dispatcher = { role: 'DISPATCHER', unitId: null, zones: [] } as const;
  const centro = { role: 'DISPATCHER', unitId: null, zones: ['Centro', 'Norte'] } as const;
  const officer = { role: 'OFFICER', unitId: 'u1', zones: [] } as const;
  const alert = (zone: string | null, assignedUnitId: string | null = null) => ({ zone, assignedUnitId });
  for (const v of [admin, dispatcher]) {
    assert.deepEqual(alertScopeOf(v), {});
    assert.equal(maySeeAlert(v, alert(null)), true);
    assert.equal(maySeeAlert(v, alert('Sur', 'u2')), true);
  }
  assert.deepEqual(alertScopeOf(centro), { zones: ['Centro', 'Norte'] });
  assert.equal(maySeeAlert(centro, alert('Centro')), true);
  assert.equal(maySeeAlert(centro, alert('Norte', 'u9')), true);
  assert.equal(maySeeAlert(centro, alert('Sur')), false);
  assert.equal(maySeeAlert(centro, alert(null)), false, 'a camera without a zone is in none of them');
  assert.equal(maySeeAlert(centro, alert('centro')), false, 'zone names are exact');
  assert.deepEqual(alertScopeOf(officer), { assignedUnitId: 'u1' });
  assert.equal(maySeeAlert(officer, alert('Centro', 'u1')), true);
  assert.equal(maySeeAlert(officer, alert(null, 'u2')), false);
  assert.equal(maySeeAlert({ ...officer, unitId: null }, alert(null, null)), false, 'an officer without a unit sees nothing');
  // Zones on an officer or admin row (written by hand) change nothing.
  assert.deepEqual(alertScopeOf({ ...admin, zones: ['Centro'] }), {});
  assert.deepEqual(alertScopeOf({ ...officer, zones: ['Centro'] }), { assignedUnitId: 'u1' });
});

test('zones as given and as stored', () => {
  assert.deepEqual(normaliseZones('DISPATCHER', [' Centro ', 'Norte', 'Centro', '  ']), { zones: ['Centro', 'Norte'], problem: null });
  assert.equal(normaliseZones('OFFICER', ['Centro']).problem, 'only dispatchers are limited to zones');
  assert.equal(normaliseZones('ADMIN', ['Centro']).problem, 'only dispatchers are limited to zones');
  assert.equal(normaliseZones('ADMIN', ['  ']).problem, null);
  assert.equal(normaliseZones('DISPATCHER', ['x'.repeat(101)]).problem, 'a zone name has at most 100 characters');
  assert.deepEqual(parseZones('["Centro","Norte"]'), ['Centro', 'Norte']);
  for (const bad of [null, undefined, '', 'not json', '{"a":1}', '[1,""]']) assert.deepEqual(parseZones(bad), []);
});

test('socket rooms: admins and dispatchers without zones see everything, dispatchers with zones their zones, officers only their unit', () => {
  const admin = roomsFor({ role: 'ADMIN', unitId: null, zones: [], sessionId: 's' });
  assert.ok(admin.includes(DISPATCH_ROOM) && admin.includes(UNIT_BOARD_ROOM));
  assert.ok(roomsFor({ role: 'DISPATCHER', unitId: 'u1', zones: [], sessionId: 's' }).includes(DISPATCH_ROOM));
  assert.deepEqual(roomsFor({ role: 'DISPATCHER', unitId: null, zones: ['Centro', 'Norte'], sessionId: 's' }), [
    'session:s',
    UNIT_BOARD_ROOM,
    zoneRoom('Centro'),
    zoneRoom('Norte'),
  ]);
  const officer = roomsFor({ role: 'OFFICER', unitId: 'u1', zones: [], sessionId: 's' });
  assert.ok(officer.includes(unitRoom('u1')));
  assert.ok(!officer.includes(DISPATCH_ROOM) && !officer.includes(UNIT_BOARD_ROOM));
  assert.deepEqual(roomsFor({ role: 'OFFICER', unitId: null, zones: [], sessionId: 's' }), ['session:s']);
});

test('directory groups: the highest role of the groups, a dispatcher\'s zones, and no access without a group of the map', () => {
  const map: DirectoryGroupMap = { claim: 'groups', roles: { ADMIN: ['admins'], DISPATCHER: ['dispatch'], OFFICER: ['patrol'] }, zones: { Sur: ['sur'], Centro: ['centro', 'centro-night'], '*': ['city'] }, createAccounts: false };
  assert.deepEqual(accessFromGroups(map, ['patrol', 'dispatch', 'other'], 'OFFICER'), { ok: false, why: 'no group of the directory gives the dispatcher a zone' });
  assert.deepEqual(accessFromGroups(map, ['patrol', 'dispatch', 'sur', 'centro-night'], 'OFFICER'), { ok: true, role: 'DISPATCHER', zones: ['Centro', 'Sur'] });
  assert.deepEqual(accessFromGroups(map, ['dispatch', 'sur', 'city'], 'DISPATCHER'), { ok: true, role: 'DISPATCHER', zones: [] }, 'every zone');
  assert.deepEqual(accessFromGroups(map, ['admins', 'dispatch', 'sur'], 'DISPATCHER'), { ok: true, role: 'ADMIN', zones: null });
  assert.deepEqual(accessFromGroups(map, ['patrol', 'sur'], 'DISPATCHER'), { ok: true, role: 'OFFICER', zones: null });
  assert.deepEqual(accessFromGroups(map, [], 'ADMIN'), { ok: false, why: 'no group of the directory gives a MaskWatch role' });
  assert.deepEqual(accessFromGroups(map, ['Dispatch', 'SUR'], 'ADMIN').ok, false, 'names are matched exactly');
  // Only zones from the directory: the role stays MaskWatch's, and only a dispatcher needs a zone group.
  const zonesOnly: DirectoryGroupMap = { ...map, roles: null };
  assert.deepEqual(accessFromGroups(zonesOnly, ['centro'], 'DISPATCHER'), { ok: true, role: null, zones: ['Centro'] });
  assert.deepEqual(accessFromGroups(zonesOnly, [], 'OFFICER'), { ok: true, role: null, zones: null });
  assert.equal(accessFromGroups(zonesOnly, [], 'DISPATCHER').ok, false);
  assert.deepEqual(accessFromGroups({ ...map, zones: null }, ['dispatch'], 'OFFICER'), { ok: true, role: 'DISPATCHER', zones: null });

  assert.deepEqual(groupsOfClaim(['a', 7, 'b']), ['a', 'b']);
  assert.deepEqual(groupsOfClaim('a'), ['a']);
  assert.equal(groupsOfClaim(undefined), null);
  assert.equal(groupsOfClaim({ a: 1 }), null);
});
