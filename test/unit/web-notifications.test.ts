/** What system notifications say, and which alert events an officer's phone announces (src/web/alert-notifications.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../../src/realtime/events.ts';
import { alertNotification, alertTag, officerAnnouncement } from '../../src/web/alert-notifications.ts';
import { alertEvent } from '../helpers/alert-event.ts';

const CREATED = '2026-12-06T10:00:00.000Z';
const person = (id: string, patch: Partial<AlertEvent['people'][number]> = {}): AlertEvent['people'][number] => ({
  id,
  label: 'no_mask',
  box: [10, 10, 40, 40],
  frames: 2,
  noMaskProbability: 0.97,
  snapshotUrl: `/api/v1/alerts/a1/people/${id}/snapshot`,
  frameSnapshotUrl: null,
  firstSeenAt: CREATED,
  lastSeenAt: CREATED,
  maskedSince: null,
  falsePositive: false,
  falsePositiveReason: null,
  ...patch,
});
const crowd = alertEvent('a1', CREATED, {
  camera: { name: 'Gran Vía 12', latitude: 40.42, longitude: -3.7, address: 'Gran Vía 12, Madrid', zone: 'Centro' },
  people: [person('p1'), person('p2'), person('p3', { falsePositive: true, falsePositiveReason: 'poster' })],
});

test('a notification names the place and how many people, never a face, a score or a crop', () => {
  const n = alertNotification('new', crowd);
  assert.deepEqual(n, { title: 'New alert', body: 'Gran Vía 12, Gran Vía 12, Madrid · Centro · 2 people', tag: 'alert:a1', urgent: false });
  for (const kind of ['new', 'escalated', 'assigned', 'unacknowledged'] as const) {
    const text = JSON.stringify(alertNotification(kind, crowd));
    assert.doesNotMatch(text, /snapshot|%|0\.97|p1/, kind);
    assert.equal(alertNotification(kind, crowd).tag, alertTag('a1'), 'one notification per alert: later ones replace it');
  }
});

test('escalations and assignments stay until acted on; a camera without an address is placed by its coordinates', () => {
  const bare = alertEvent('a2', CREATED, { escalationLevel: 2, people: [person('p1')] });
  const escalated = alertNotification('escalated', bare);
  assert.equal(escalated.title, 'Escalated to level 2');
  assert.match(escalated.body, /^Cam, 40\.00000, -3\.00000 · still not dispatched$/);
  assert.equal(escalated.urgent, true);
  assert.match(alertNotification('escalated', { ...bare, status: 'DISPATCHED' }).body, /not acknowledged by the unit$/);
  const assigned = alertNotification('assigned', bare);
  assert.deepEqual([assigned.title, assigned.urgent], ['New assignment', true]);
  assert.match(assigned.body, /· 1 person$/);
  assert.match(alertNotification('unacknowledged', bare).body, /escalated to level 2, dispatch is waiting$/);
});

test("an officer's phone announces its unit's new assignments and the escalations it has not acknowledged, nothing else", () => {
  const dispatched = { ...crowd, status: 'DISPATCHED' as const, assignedUnitId: 'u11' };
  assert.equal(officerAnnouncement(undefined, dispatched, 'u11'), 'assigned', 'first heard of as an assignment');
  assert.equal(officerAnnouncement(crowd, dispatched, 'u11'), 'assigned', 'NEW → dispatched to this unit');
  assert.equal(officerAnnouncement({ ...dispatched, assignedUnitId: 'u12' }, dispatched, 'u11'), 'assigned', 'taken from another unit');
  assert.equal(officerAnnouncement(dispatched, dispatched, 'u11'), null, 'a repeat of the same state');
  assert.equal(officerAnnouncement(dispatched, { ...dispatched, escalationLevel: 1 }, 'u11'), 'unacknowledged');
  assert.equal(officerAnnouncement(dispatched, { ...dispatched, people: [...dispatched.people, person('p4')] }, 'u11'), null, 'a person joining is no news');
  assert.equal(officerAnnouncement(dispatched, dispatched, 'u12'), null, "another unit's alert");
  const acknowledged = { ...dispatched, status: 'ACKNOWLEDGED' as const };
  assert.equal(officerAnnouncement(dispatched, { ...acknowledged, escalationLevel: 1 }, 'u11'), null, 'acknowledged: nothing to ask for');
  assert.equal(officerAnnouncement(undefined, acknowledged, 'u11'), null);
});
