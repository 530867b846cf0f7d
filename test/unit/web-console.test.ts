/** Pure parts of the dispatcher console: queue order, filters, announcements, title, keys, map labels, session renewal, evidence zoom, a person on camera. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../../src/realtime/events.ts';
import {
  announcementFor,
  comparePriority,
  decodeFilter,
  decodeUnseen,
  encodeUnseen,
  MAX_UNSEEN,
  pruneUnseen,
  DEFAULT_FILTER,
  encodeFilter,
  feedFacets,
  feedView,
  hiddenByFilter,
  matchesFilter,
  moveIndex,
  NO_ZONE,
  sortByPriority,
  tabTitle,
} from '../../src/web/feed-order.ts';
import { clampZoom, placeLabels, zoomAround } from '../../src/web/map-labels.ts';
import { lifeFromResponse, nextCheckDelay, renewAt, sessionPhase } from '../../src/web/session-renewal.ts';
import { centredZoom, personContext } from '../../src/web/zoom-view.ts';
import { alertEvent } from '../helpers/alert-event.ts';

const alert = (id: string, createdAt: string, patch: Partial<AlertEvent> = {}) =>
  alertEvent(id, createdAt, { camera: { name: 'Cam', latitude: 40, longitude: -3, address: null, zone: 'Centro' }, ...patch });

test('queue: not dispatched first, then escalation level, then waiting before handled, then oldest first; closed last, newest first', () => {
  const old = alert('old', '2026-01-01T10:00:00Z');
  const young = alert('young', '2026-01-01T10:05:00Z');
  const escalated = alert('esc', '2026-01-01T10:10:00Z', { escalationLevel: 1 });
  const escalated2 = alert('esc2', '2026-01-01T10:20:00Z', { escalationLevel: 2, status: 'DISPATCHED', assignedUnitId: 'u' });
  const handled = alert('handled', '2026-01-01T09:00:00Z', { status: 'EN_ROUTE', assignedUnitId: 'u' });
  const waitingUnit = alert('dispatched', '2026-01-01T10:02:00Z', { status: 'DISPATCHED', assignedUnitId: 'u' });
  const closedOld = alert('closed-old', '2026-01-01T08:00:00Z', { status: 'RESOLVED' });
  const closedNew = alert('closed-new', '2026-01-01T11:00:00Z', { status: 'DISMISSED', escalationLevel: 3 });
  const order = sortByPriority([closedOld, young, handled, closedNew, old, escalated, waitingUnit, escalated2]).map((a) => a.id);
  assert.deepEqual(order, ['esc', 'old', 'young', 'esc2', 'dispatched', 'handled', 'closed-new', 'closed-old']);
  // A unit's escalation never drops once it has the alert: it must not bury a new alert nobody dispatched.
  const enRouteHigh = alert('enroute-4', '2026-01-01T09:00:00Z', { status: 'EN_ROUTE', assignedUnitId: 'u', escalationLevel: 4 });
  const dispatchedHigh = alert('dispatched-5', '2026-01-01T09:01:00Z', { status: 'DISPATCHED', assignedUnitId: 'u', escalationLevel: 5 });
  const brandNew = alert('brand-new', '2026-01-01T12:00:00Z');
  assert.deepEqual(sortByPriority([enRouteHigh, dispatchedHigh, brandNew]).map((a) => a.id), ['brand-new', 'dispatched-5', 'enroute-4']);
  // An open alert whose unit was removed needs the dispatcher again.
  assert.deepEqual(sortByPriority([enRouteHigh, { ...dispatchedHigh, assignedUnitId: null }]).map((a) => a.id), ['dispatched-5', 'enroute-4']);
  // Escalating the youngest alert moves it to the top.
  assert.equal(sortByPriority([old, { ...young, escalationLevel: 1 }])[0]!.id, 'young');
  // Ties on time are broken by id: the order is total and stable.
  const twinA = alert('a', '2026-01-01T10:00:00Z');
  const twinB = alert('b', '2026-01-01T10:00:00Z');
  assert.equal(comparePriority(twinA, twinB), -1);
  assert.equal(comparePriority(twinB, twinA), 1);
  assert.equal(comparePriority(twinA, twinA), 0);
});

test('filters: open / all / one status, zone (incl. no zone), camera; facets from alerts and cameras', () => {
  const a = alert('a', '2026-01-01T10:00:00Z', { cameraId: 'c1', camera: { name: 'Sol', latitude: 0, longitude: 0, address: null, zone: 'Centro' } });
  const b = alert('b', '2026-01-01T10:01:00Z', { cameraId: 'c2', status: 'RESOLVED', camera: { name: 'Atocha', latitude: 0, longitude: 0, address: null, zone: 'Retiro' } });
  const c = alert('c', '2026-01-01T10:02:00Z', { cameraId: 'c3', status: 'DISPATCHED', camera: { name: 'Bridge', latitude: 0, longitude: 0, address: null, zone: null } });
  const all = [a, b, c];
  assert.deepEqual(feedView(all, DEFAULT_FILTER).map((x) => x.id), ['a', 'c']);
  assert.deepEqual(feedView(all, { ...DEFAULT_FILTER, status: 'all' }).map((x) => x.id), ['a', 'c', 'b']);
  assert.deepEqual(feedView(all, { ...DEFAULT_FILTER, status: 'RESOLVED' }).map((x) => x.id), ['b']);
  assert.deepEqual(feedView(all, { status: 'all', zone: 'Retiro', cameraId: '' }).map((x) => x.id), ['b']);
  assert.deepEqual(feedView(all, { status: 'all', zone: NO_ZONE, cameraId: '' }).map((x) => x.id), ['c']);
  assert.deepEqual(feedView(all, { status: 'open', zone: '', cameraId: 'c3' }).map((x) => x.id), ['c']);
  assert.equal(matchesFilter(b, { status: 'open', zone: 'Retiro', cameraId: '' }), false);
  const facets = feedFacets(all, [{ id: 'c9', name: 'Zoo', zone: 'Casa de Campo' }]);
  assert.deepEqual(facets.zones, ['Casa de Campo', 'Centro', 'Retiro']);
  assert.deepEqual(facets.cameras.map((x) => x.name), ['Atocha', 'Bridge', 'Sol', 'Zoo']);
  assert.equal(facets.hasNoZone, true);
  // What the filters hide of the open alerts is said, escalations apart; closed ones do not count.
  assert.equal(hiddenByFilter(all, DEFAULT_FILTER), null);
  assert.equal(hiddenByFilter(all, { status: 'all', zone: 'Retiro', cameraId: '' })!.shown, 0);
  assert.deepEqual(hiddenByFilter([a, b, { ...c, escalationLevel: 2 }], { status: 'open', zone: 'Centro', cameraId: '' }), { shown: 1, open: 2, escalatedHidden: 1 });
  assert.deepEqual(hiddenByFilter(all, { status: 'DISPATCHED', zone: '', cameraId: '' }), { shown: 1, open: 2, escalatedHidden: 0 });
  // Persisted filters survive a round trip; garbage falls back to the default.
  const f = { status: 'DISPATCHED' as const, zone: 'Centro', cameraId: 'c1' };
  assert.deepEqual(decodeFilter(encodeFilter(f)), f);
  assert.deepEqual(decodeFilter('{not json'), DEFAULT_FILTER);
  assert.deepEqual(decodeFilter(null), DEFAULT_FILTER);
});

test('announcements: a new open alert, an escalation (level up while open); not other updates', () => {
  const a = alert('a', '2026-01-01T10:00:00Z');
  assert.equal(announcementFor(undefined, a), 'new');
  assert.equal(announcementFor(undefined, { ...a, status: 'RESOLVED' }), null);
  assert.equal(announcementFor(a, { ...a, escalationLevel: 1 }), 'escalated');
  assert.equal(announcementFor({ ...a, escalationLevel: 1 }, { ...a, escalationLevel: 1, violationCount: 3 }), null);
  assert.equal(announcementFor(a, { ...a, status: 'DISPATCHED' }), null);
  assert.equal(announcementFor(a, { ...a, status: 'DISMISSED', escalationLevel: 1 }), null);
});

test('tab title: open count and unseen escalations', () => {
  assert.equal(tabTitle('Dispatch', 0, 0), 'Dispatch · MaskWatch');
  assert.equal(tabTitle('Dispatch', 5, 0), '(5) Dispatch · MaskWatch');
  assert.equal(tabTitle('Dispatch', 5, 2), '(5) ⚠2 Dispatch · MaskWatch');
});

test('unseen alerts survive a reload (bounded), and stop counting once handled or closed', () => {
  const kept = decodeUnseen(encodeUnseen({ fresh: new Set(['n1']), escalated: new Set(['e1', 'e2']) }));
  assert.deepEqual([...kept.fresh], ['n1']);
  assert.deepEqual([...kept.escalated], ['e1', 'e2']);
  assert.deepEqual([...decodeUnseen('{oops').escalated], []);
  assert.deepEqual([...decodeUnseen(null).fresh], []);
  assert.deepEqual([...decodeUnseen('{"fresh":[1,"x"],"escalated":"y"}').fresh], ['x'], 'only ids are kept');
  // Bounded: the newest ones are kept.
  const many = new Set(Array.from({ length: MAX_UNSEEN + 5 }, (_, i) => `a${i}`));
  const bounded = decodeUnseen(encodeUnseen({ fresh: many, escalated: new Set() })).fresh;
  assert.equal(bounded.size, MAX_UNSEEN);
  assert.ok(bounded.has(`a${MAX_UNSEEN + 4}`) && !bounded.has('a0'));
  // Pruned against the fetched list: closed, gone, or a unit on it (acknowledged) no longer waits to be seen.
  const u = { fresh: new Set(['new', 'closed', 'gone']), escalated: new Set(['esc', 'acked', 'waiting-unit', 'gone']) };
  pruneUnseen(u, [
    alert('new', '2026-01-01T10:00:00Z'),
    alert('closed', '2026-01-01T10:00:00Z', { status: 'DISMISSED' }),
    alert('esc', '2026-01-01T10:00:00Z', { escalationLevel: 1 }),
    alert('acked', '2026-01-01T10:00:00Z', { escalationLevel: 1, status: 'ACKNOWLEDGED', assignedUnitId: 'u' }),
    alert('waiting-unit', '2026-01-01T10:00:00Z', { escalationLevel: 2, status: 'DISPATCHED', assignedUnitId: 'u' }),
  ]);
  assert.deepEqual([...u.fresh], ['new']);
  assert.deepEqual([...u.escalated], ['esc', 'waiting-unit']);
});

test('list keys: j/k and arrows move by one, Home/End, PageUp/PageDown, clamped', () => {
  assert.equal(moveIndex(-1, 'j', 3), 0);
  assert.equal(moveIndex(-1, 'k', 3), 0);
  assert.equal(moveIndex(0, 'j', 3), 1);
  assert.equal(moveIndex(2, 'ArrowDown', 3), 2);
  assert.equal(moveIndex(0, 'ArrowUp', 3), 0);
  assert.equal(moveIndex(1, 'End', 3), 2);
  assert.equal(moveIndex(2, 'Home', 3), 0);
  assert.equal(moveIndex(1, 'PageDown', 30), 6);
  assert.equal(moveIndex(3, 'PageUp', 30), 0);
  assert.equal(moveIndex(7, 'j', 3), 2, 'an index beyond a shrunken list is clamped first');
  assert.equal(moveIndex(0, 'j', 0), -1);
});

test('map labels: no two labels overlap each other or a marker; crowded ones are left out', () => {
  const reqs = Array.from({ length: 12 }, (_, i) => ({ id: `m${i}`, x: 200 + (i % 3) * 4, y: 140 + Math.floor(i / 3) * 4, text: `Camera number ${i}`, radius: 6 }));
  const placed = placeLabels(reqs, 420, 280);
  assert.ok(placed.length >= 1 && placed.length < reqs.length, `placed ${placed.length}`);
  assert.equal(placed[0]!.id, 'm0', 'the first (most important) marker gets its label');
  const boxes = placed.map((p) => {
    const w = p.text.length * 6.4;
    const x0 = p.anchor === 'start' ? p.x : p.anchor === 'end' ? p.x - w : p.x - w / 2;
    return { x0, x1: x0 + w, y0: p.y - 12, y1: p.y };
  });
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i]!;
      const b = boxes[j]!;
      assert.ok(!(a.x0 < b.x1 - 0.5 && b.x0 < a.x1 - 0.5 && a.y0 < b.y1 - 0.5 && b.y0 < a.y1 - 0.5), `labels ${placed[i]!.id} and ${placed[j]!.id} overlap`);
    }
  }
  // Far-apart markers all keep their label, to the right when it fits.
  const spread = placeLabels([{ id: 'a', x: 20, y: 20, text: 'A', radius: 6 }, { id: 'b', x: 300, y: 200, text: 'B', radius: 6 }], 420, 280);
  assert.deepEqual(spread.map((p) => [p.id, p.anchor]), [['a', 'start'], ['b', 'start']]);
  // A long name that fits nowhere whole is shortened rather than left out; the full name stays on the marker.
  const long = placeLabels([{ id: 'l', x: 150, y: 6, text: 'Plaza Mayor West Entrance Long Name', radius: 6 }], 200, 200);
  assert.deepEqual(long.map((p) => p.text), ['Plaza Mayor We…']);
  assert.equal(placeLabels([{ id: 's', x: 20, y: 20, text: 'Sol', radius: 6 }], 420, 280)[0]!.text, 'Sol');
  // A label that would leave the canvas on the right goes to the left.
  assert.equal(placeLabels([{ id: 'e', x: 410, y: 100, text: 'East edge', radius: 6 }], 420, 280)[0]!.anchor, 'end');
  // The zoom buttons in the top-right corner are an obstacle: a label there moves aside (below) instead of under them.
  const buttons = { x0: 300, y0: 0, x1: 420, y1: 30 };
  assert.equal(placeLabels([{ id: 'n', x: 330, y: 36, text: 'P-12', radius: 6 }], 420, 280)[0]!.anchor, 'start', 'without the obstacle: to the right');
  assert.deepEqual(placeLabels([{ id: 'n', x: 330, y: 36, text: 'P-12', radius: 6 }], 420, 280, [buttons]).map((p) => [p.anchor, p.y > 36]), [['middle', true]]);
});

test('map zoom: clamped, and the point under the cursor stays put', () => {
  assert.equal(clampZoom(0.5), 1);
  assert.equal(clampZoom(40), 16);
  const centre = { x: 210, y: 140 };
  const at = { x: 300, y: 50 };
  const next = zoomAround(centre, 1, 2, at, 420, 280);
  // Base point under the cursor before: centre + (at - mid) / 1; after: next + (at - mid) / 2.
  assert.deepEqual([next.x + (at.x - 210) / 2, next.y + (at.y - 140) / 2], [centre.x + (at.x - 210), centre.y + (at.y - 140)]);
});

test('session renewal: at half the lifetime, retried before expiry, expired after', () => {
  const life = { issuedAt: 1_000, expiresAt: 61_000 };
  assert.equal(renewAt(life), 31_000);
  assert.equal(sessionPhase(life, 30_999), 'fresh');
  assert.equal(sessionPhase(life, 31_000), 'renew');
  assert.equal(sessionPhase(life, 61_000), 'expired');
  assert.equal(nextCheckDelay(life, 1_000), 30_000);
  assert.equal(nextCheckDelay(life, 41_000), 5_000, 'a quarter of what is left');
  assert.equal(nextCheckDelay({ issuedAt: 0, expiresAt: 12 * 3600_000 }, 7 * 3600_000), 15_000, 'capped retry');
  assert.equal(nextCheckDelay(life, 60_500), 1_000, 'never a busy loop');
  // The server's lifetime, moved onto the page's clock (a page clock 1 h ahead).
  const skewed = lifeFromResponse('2026-01-01T12:00:00.000Z', Date.parse('2026-01-01T11:59:00.000Z'), Date.parse('2026-01-01T12:59:00.000Z'));
  assert.deepEqual(skewed, { issuedAt: Date.parse('2026-01-01T12:59:00.000Z'), expiresAt: Date.parse('2026-01-01T13:00:00.000Z') });
  assert.equal(lifeFromResponse('nope', null, 0), null);
});

test('after-action review: response times as Statistics measures them (acknowledge from dispatch), labelled', async () => {
  const { responseMilestones } = await import('../../src/web/views/admin/review.ts');
  const entry = (action: string, at: string) => ({ action, at, actorRole: null, username: null, from: null, to: null, unitId: null, note: null, outcome: null, tappedAt: null });
  const ms = responseMilestones({ createdAt: '2026-01-01T10:00:00Z' }, [
    entry('alert.escalated', '2026-01-01T10:02:00Z'),
    entry('alert.dispatch', '2026-01-01T10:03:00Z'),
    entry('alert.dispatch', '2026-01-01T10:09:00Z'),
    entry('alert.acknowledge', '2026-01-01T10:04:30Z'),
    entry('alert.resolve', '2026-01-01T10:30:00Z'),
  ]);
  assert.deepEqual(ms, [['Raised → dispatched', 180], ['Dispatched → acknowledged', 90], ['Raised → resolved', 1800]]);
  // Reassigned before the acknowledgement: the unit's clock starts at the dispatch it acknowledged.
  const again = responseMilestones({ createdAt: '2026-01-01T10:00:00Z' }, [
    entry('alert.dispatch', '2026-01-01T10:01:00Z'),
    entry('alert.dispatch', '2026-01-01T10:05:00Z'),
    entry('alert.acknowledge', '2026-01-01T10:05:20Z'),
    entry('alert.dismiss', '2026-01-01T10:06:00Z'),
  ]);
  assert.deepEqual(again, [['Raised → dispatched', 60], ['Dispatched → acknowledged', 20], ['Raised → dismissed', 360]]);
});

test('evidence zoom: the chosen person is centred, and the frame never leaves the view', () => {
  assert.deepEqual(centredZoom(1, { x: 0.1, y: 0.9 }), { tx: 0, ty: 0 }, 'at 100 % the frame fills the view');
  // At 2×, a point at 40 % / 60 % lands in the middle: 2 × 40 % − 30 % = 50 %.
  assert.deepEqual(centredZoom(2, { x: 0.4, y: 0.6 }), { tx: -30, ty: -70 });
  // Near the edges the frame is clamped to cover the view: a person at the left edge stays left, fully shown.
  assert.deepEqual(centredZoom(2, { x: 0.05, y: 0.98 }), { tx: 0, ty: -100 });
  for (const scale of [1.5, 3, 4]) {
    for (const c of [0, 0.3, 0.5, 1]) {
      const { tx } = centredZoom(scale, { x: c, y: 0.5 });
      assert.ok(tx <= 0 && tx >= 100 - 100 * scale, `scale ${scale}, centre ${c}: offset ${tx} % shows outside the frame`);
    }
  }
});

test("a person on camera: the face and what is below it (the clothes), three face widths wide, kept inside the frame", () => {
  const frame = { width: 1280, height: 720 };
  // A 40 px face in the open: 128 × 170.7 px (3 : 4), centred on the face, from half a face above it.
  const r = personContext({ x: 600, y: 200, width: 40, height: 40 }, frame, 3 / 4);
  assert.deepEqual({ x: r.x, y: r.y, width: r.width }, { x: 556, y: 180, width: 128 });
  assert.ok(Math.abs(r.height - 128 / 0.75) < 1e-9);
  assert.ok(r.y + r.height > 200 + 40 * 3, 'three face heights below the face are shown');
  // At the frame's corners the region is shifted inside, never cut.
  assert.deepEqual(personContext({ x: 2, y: 690, width: 30, height: 30 }, frame, 3 / 4), { x: 0, y: 720 - 128, width: 96, height: 128 });
  assert.deepEqual(personContext({ x: 1260, y: 5, width: 20, height: 20 }, frame, 3 / 4), { x: 1280 - 64, y: 0, width: 64, height: 64 / 0.75 });
  // A face as large as the frame: the whole height, at the region's shape.
  assert.deepEqual(personContext({ x: 0, y: 0, width: 400, height: 400 }, { width: 640, height: 480 }, 3 / 4), { x: 20, y: 0, width: 360, height: 480 });
});
