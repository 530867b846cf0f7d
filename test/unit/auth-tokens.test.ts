import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerToken, hashSecret, newCameraApiKey, newSessionToken, secretHint } from '../../src/auth/tokens.ts';
import { canSeeUnit, isRole } from '../../src/auth/roles.ts';
import { roomsFor } from '../../src/realtime/server.ts';
import { DISPATCH_ROOM, unitRoom } from '../../src/realtime/rooms.ts';

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
  assert.equal(canSeeUnit({ role: 'DISPATCHER', unitId: null }, 'u1'), true);
  assert.equal(canSeeUnit({ role: 'OFFICER', unitId: 'u1' }, 'u1'), true);
  assert.equal(canSeeUnit({ role: 'OFFICER', unitId: 'u1' }, 'u2'), false);
  assert.equal(canSeeUnit({ role: 'OFFICER', unitId: null }, null), false);
});

test('socket rooms: dispatchers/admins see everything, officers only their unit', () => {
  assert.ok(roomsFor({ role: 'ADMIN', unitId: null, sessionId: 's' }).includes(DISPATCH_ROOM));
  assert.ok(roomsFor({ role: 'DISPATCHER', unitId: 'u1', sessionId: 's' }).includes(DISPATCH_ROOM));
  const officer = roomsFor({ role: 'OFFICER', unitId: 'u1', sessionId: 's' });
  assert.ok(officer.includes(unitRoom('u1')));
  assert.ok(!officer.includes(DISPATCH_ROOM));
  assert.deepEqual(roomsFor({ role: 'OFFICER', unitId: null, sessionId: 's' }), ['session:s']);
});
