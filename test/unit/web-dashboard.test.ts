/** Pure parts of the dashboard and of the dispatch/stats/export API (no DOM, no I/O). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { countByStatus, filterAlerts, mergeAlerts, pruneAlerts, sortAlerts, upsertAlert } from '../../src/web/alert-list.ts';
import { labelStride, layoutBars, niceCeil, ticks } from '../../src/web/chart-scale.ts';
import { formatClock, formatDistance, formatDuration, formatModelScore, formatPercent, localInputToIso, mapsUrl } from '../../src/web/format.ts';
import { personFacts } from '../../src/web/views/evidence-viewer.ts';
import { incidentFirstSeenAt, maskPutOnHint, maskedSinceText, maskedText, peopleText, verdictText } from '../../src/web/views/common.ts';
import { fitProjection, fitTiles, tileUrl, worldPixel, TILE_SIZE } from '../../src/web/map-projection.ts';
import { resolveRoute, routesFor, sameAccess } from '../../src/web/session.ts';
import { allowedActions } from '../../src/web/workflow.ts';
import {
  bucketStart,
  categoryBucketsFromCounts,
  distribution,
  quantile,
  falsePositiveRates,
  resolutionOutcomeCounts,
  responseTimes,
  timeBucketsFromCounts,
  checkRange,
  StatsInputError,
} from '../../src/domain/stats.ts';
import { csvCell, csvRow } from '../../src/services/exports.ts';
import { outcomeProblem } from '../../src/api/routes/alert-actions.ts';
import { alertRooms as updateRooms } from '../../src/realtime/rooms.ts';
import { LifecycleError } from '../../src/domain/lifecycle.ts';
import { alertEvent } from '../helpers/alert-event.ts';

const alert = alertEvent;

test('alert list: newest first, upsert replaces by id, live copies win a merge', () => {
  const a = alert('a', '2026-01-01T10:00:00Z');
  const b = alert('b', '2026-01-01T11:00:00Z');
  assert.deepEqual(sortAlerts([a, b]).map((x) => x.id), ['b', 'a']);
  const updated = upsertAlert([b, a], { ...a, status: 'DISPATCHED', assignedUnitId: 'u1' });
  assert.equal(updated.length, 2);
  assert.equal(updated.find((x) => x.id === 'a')!.status, 'DISPATCHED');
  const merged = mergeAlerts([a, b], [{ ...b, status: 'DISMISSED' }]);
  assert.equal(merged.find((x) => x.id === 'b')!.status, 'DISMISSED');
  assert.deepEqual(filterAlerts(merged, { openOnly: true }).map((x) => x.id), ['a']);
  assert.deepEqual(filterAlerts(updated, { openOnly: true, unitId: 'u1' }).map((x) => x.id), ['a']);
  assert.equal(countByStatus(merged).DISMISSED, 1);
  const many = [
    alert('o1', '2026-01-01T01:00:00Z'),
    alert('c1', '2026-01-01T02:00:00Z', { status: 'RESOLVED' }),
    alert('c2', '2026-01-01T03:00:00Z', { status: 'DISMISSED' }),
    alert('c3', '2026-01-01T04:00:00Z', { status: 'RESOLVED' }),
  ];
  assert.deepEqual(pruneAlerts(many, 2).map((x) => x.id), ['c3', 'c2', 'o1']);
});

test('format: durations, percentages, distances, maps link, datetime-local', () => {
  assert.equal(formatDuration(42), '42 s');
  assert.equal(formatDuration(200), '3 min 20 s');
  assert.equal(formatDuration(3 * 3600 + 5 * 60), '3 h 05 min');
  assert.equal(formatDuration(null), '–');
  assert.equal(formatPercent(0.934), '93 %');
  assert.equal(formatPercent(1.7), '100 %');
  // A model's score is never shown as certain either way.
  assert.equal(formatModelScore(0.9999), '> 99 %');
  assert.equal(formatModelScore(0.001), '< 1 %');
  assert.equal(formatModelScore(0.5), '50 %');
  assert.equal(formatModelScore(Number.NaN), '–');
  assert.equal(formatDistance(840.4), '840 m');
  assert.equal(formatDistance(2460), '2.5 km');
  assert.equal(mapsUrl(40.4203, -3.7058), 'https://www.openstreetmap.org/?mlat=40.420300&mlon=-3.705800#map=18/40.420300/-3.705800');
  assert.equal(localInputToIso(''), undefined);
  assert.equal(localInputToIso('not a date'), undefined);
  assert.ok(localInputToIso('2026-03-01T10:30')!.startsWith('2026-03-01T'));
});

test('a person\'s facts give the model\'s no-mask score as a score, and only for a no_mask person', () => {
  const seen = '2026-01-01T10:00:00Z';
  assert.deepEqual(personFacts({ label: 'no_mask', noMaskProbability: 0.61, frames: 3, lastSeenAt: seen }), ['model score 61 %', '3 frames', `last seen ${formatClock(seen)}`]);
  // Beside "Mask worn incorrectly", a low P(no mask) would read as a weak accusation.
  assert.deepEqual(personFacts({ label: 'mask_incorrect', noMaskProbability: 0.05, frames: 1, lastSeenAt: seen }), ['1 frame', `last seen ${formatClock(seen)}`]);
  assert.equal(maskedSinceText({ maskedSince: null }), null);
  assert.equal(maskedSinceText({ maskedSince: seen }), `Now wearing a mask, since ${formatClock(seen)}`);
});

test("an officer's card says when the camera first saw the incident's people, not when the alert row was written", () => {
  const createdAt = '2026-01-01T10:00:05Z';
  const seen = (firstSeenAt: string, falsePositive = false) => ({ firstSeenAt, falsePositive });
  assert.equal(incidentFirstSeenAt({ createdAt, people: [seen('2026-01-01T10:00:03Z'), seen('2026-01-01T10:00:01Z')] }), '2026-01-01T10:00:01Z');
  // A person marked a false positive no longer dates the incident.
  assert.equal(incidentFirstSeenAt({ createdAt, people: [seen('2026-01-01T09:59:00Z', true), seen('2026-01-01T10:00:03Z')] }), '2026-01-01T10:00:03Z');
  assert.equal(incidentFirstSeenAt({ createdAt, people: [] }), createdAt);
});

test('an alert card says what it accuses: no mask with the model\'s score and how many wear a mask incorrectly, or only that when it is all there is', () => {
  const person = (label: 'no_mask' | 'mask_incorrect', falsePositive = false) => ({ label, falsePositive });
  assert.equal(verdictText({ noMaskProbability: 0.61, people: [person('no_mask'), person('mask_incorrect')] }), 'no mask (model score 61 %), 1 mask worn incorrectly');
  // A score is not a certainty: never "100 %".
  assert.equal(verdictText({ noMaskProbability: 0.998, people: [person('no_mask')] }), 'no mask (model score > 99 %)');
  assert.equal(verdictText({ noMaskProbability: 0.05, people: [person('mask_incorrect')] }), 'mask worn incorrectly');
  // A legacy alert without people keeps its P(no mask).
  assert.equal(verdictText({ noMaskProbability: 0.9, people: [] }), 'no mask (model score 90 %)');
  // A person marked not a violation is no longer what the card accuses (the alert's score is no longer theirs either).
  assert.equal(verdictText({ noMaskProbability: 0.05, people: [person('no_mask', true), person('mask_incorrect')] }), 'mask worn incorrectly');
  assert.equal(verdictText({ noMaskProbability: 0.9, people: [person('no_mask'), person('mask_incorrect', true)] }), 'no mask (model score 90 %)');
});

test("a card counts the people it still accuses, and says how many were marked not a violation", () => {
  const p = (falsePositive = false) => ({ falsePositive });
  assert.equal(peopleText({ people: [] }), '');
  assert.equal(peopleText({ people: [p(), p(), p()] }), '3 people · ');
  assert.equal(peopleText({ people: [p(), p(true)] }), '1 person, 1 not a violation · ');
  assert.equal(peopleText({ people: [p(true), p(true)] }), '2 not a violation · ');
});

test('chart scale: nice axis tops, whole-number ticks for small counts, bar geometry', () => {
  assert.equal(niceCeil(0), 1);
  assert.equal(niceCeil(7), 10);
  assert.equal(niceCeil(2.2), 2.5);
  assert.equal(niceCeil(120), 200);
  assert.deepEqual(ticks(0), [0, 1]);
  assert.deepEqual(ticks(1), [0, 1]);
  assert.deepEqual(ticks(3), [0, 1, 2, 3]);
  assert.deepEqual(ticks(7), [0, 2, 4, 6, 8]);
  assert.deepEqual(ticks(40), [0, 10, 20, 30, 40]);
  assert.deepEqual(ticks(120), [0, 50, 100, 150]);
  const { bars, top } = layoutBars([{ label: 'a', value: 5 }, { label: 'b', value: 10 }], { x: 0, y: 0, width: 100, height: 50 });
  assert.equal(top, 10);
  assert.equal(bars[1]!.height, 50);
  assert.equal(bars[0]!.height, 25);
  assert.equal(bars[0]!.y, 25);
  assert.ok(bars[1]!.x > bars[0]!.x + bars[0]!.width);
  assert.equal(labelStride(30, 10), 3);
  assert.equal(labelStride(5, 10), 1);
});

test('map projection: fits points inside the canvas, north up, east right', () => {
  const pts = [
    { latitude: 40.42, longitude: -3.71 },
    { latitude: 40.40, longitude: -3.69 },
  ];
  const p = fitProjection(pts, 400, 300, 20);
  const nw = p.project(pts[0]!);
  const se = p.project(pts[1]!);
  for (const q of [nw, se]) assert.ok(q.x >= 20 - 1e-9 && q.x <= 380 + 1e-9 && q.y >= 20 - 1e-9 && q.y <= 280 + 1e-9);
  assert.ok(nw.y < se.y, 'north is up');
  assert.ok(nw.x < se.x, 'east is right');
  assert.ok(p.metersPerPixel > 5 && p.metersPerPixel < 20, String(p.metersPerPixel));
  const single = fitProjection([pts[0]!], 400, 300);
  assert.deepEqual(single.project(pts[0]!), { x: 200, y: 150 });
});

test('tile map: Web Mercator world pixels match the slippy-map scheme', () => {
  assert.deepEqual(worldPixel({ latitude: 0, longitude: 0 }, 0), { x: 128, y: 128 });
  // Madrid's Puerta del Sol: z=16 tile 32093/24711 by the OSM wiki's lon/lat → tile formula (computed separately).
  const w = worldPixel({ latitude: 40.4169, longitude: -3.7035 }, 16);
  assert.deepEqual([Math.floor(w.x / TILE_SIZE), Math.floor(w.y / TILE_SIZE)], [32093, 24711]);
  assert.equal(tileUrl('https://t.example/{z}/{x}/{y}.png?k={z}', { z: 3, x: 4, y: 5 }), 'https://t.example/3/4/5.png?k=3');
});

test('tile map: the deepest zoom that fits every point, tiles covering the canvas exactly once', () => {
  const pts = [
    { latitude: 40.42, longitude: -3.71 },
    { latitude: 40.40, longitude: -3.69 },
  ];
  const W = 420;
  const H = 280;
  const m = fitTiles(pts, W, H, 19, 24);
  const inside = (z: typeof m) => pts.every((p) => {
    const q = z.project(p);
    return q.x >= 24 - 1e-6 && q.x <= W - 24 + 1e-6 && q.y >= 24 - 1e-6 && q.y <= H - 24 + 1e-6;
  });
  assert.ok(inside(m), 'every point inside the padding');
  assert.ok(m.project(pts[0]!).y < m.project(pts[1]!).y && m.project(pts[0]!).x < m.project(pts[1]!).x, 'north up, east right');
  // One zoom deeper no longer fits: the zoom is the deepest that does.
  const deeper = worldPixel(pts[1]!, m.zoom + 1).x - worldPixel(pts[0]!, m.zoom + 1).x;
  assert.ok(deeper > W - 48 || worldPixel(pts[1]!, m.zoom + 1).y - worldPixel(pts[0]!, m.zoom + 1).y > H - 48, `zoom ${m.zoom} is not the deepest`);
  // Tiles tile the canvas: sample points are each covered by exactly one tile.
  for (let y = 0.5; y < H; y += 17) {
    for (let x = 0.5; x < W; x += 17) {
      const covering = m.tiles.filter((t) => x >= t.left && x < t.left + TILE_SIZE && y >= t.top && y < t.top + TILE_SIZE);
      assert.equal(covering.length, 1, `canvas point ${x},${y}`);
    }
  }
  for (const t of m.tiles) assert.equal(t.z, m.zoom);
  // Scale: ~0.3 m/px at z=18 at 40° N; so between 1 and 40 m/px at the zoom that fits ~2 km.
  assert.ok(m.metersPerPixel > 1 && m.metersPerPixel < 40, String(m.metersPerPixel));
  // The tile server's limit wins; a single camera gets street level, not the deepest zoom.
  assert.equal(fitTiles(pts, W, H, 5).zoom, 5);
  assert.equal(fitTiles([pts[0]!], W, H, 19).zoom, 16);
  const lone = fitTiles([pts[0]!], W, H, 19).project(pts[0]!);
  assert.ok(Math.abs(lone.x - W / 2) <= 0.5 && Math.abs(lone.y - H / 2) <= 0.5, 'a lone camera is centred (to the pixel)');
  for (const t of m.tiles) assert.ok(Number.isInteger(t.left) && Number.isInteger(t.top), 'tiles on whole pixels (no seams)');
  // Across the antimeridian, tile columns wrap instead of going negative.
  const wrap = fitTiles([{ latitude: 0, longitude: 179.99 }, { latitude: 0, longitude: 179.98 }], W, H, 19);
  assert.ok(wrap.tiles.every((t) => t.x >= 0 && t.x < 2 ** t.z));
});

test('routing: each role lands on its view and cannot open the others', () => {
  const officer = { id: 'o', username: 'o', role: 'OFFICER' as const, unitId: 'u' };
  const dispatcher = { ...officer, role: 'DISPATCHER' as const, unitId: null };
  const admin = { ...officer, role: 'ADMIN' as const, unitId: null };
  assert.equal(resolveRoute('#/admin', null), 'login');
  assert.equal(resolveRoute('#/admin', officer), 'officer');
  assert.equal(resolveRoute('#/dispatch', officer), 'officer');
  assert.equal(resolveRoute('', dispatcher), 'dispatch');
  assert.equal(resolveRoute('#/admin', dispatcher), 'dispatch');
  assert.equal(resolveRoute('', admin), 'admin');
  assert.equal(resolveRoute('#/dispatch', admin), 'dispatch');
  assert.deepEqual(routesFor('ADMIN').map((r) => r.route), ['dispatch', 'admin']);
});

test('buttons follow the lifecycle rules of the API', () => {
  const officer = { id: 'o', username: 'o', role: 'OFFICER' as const, unitId: 'u1' };
  const dispatcher = { ...officer, role: 'DISPATCHER' as const, unitId: null };
  assert.deepEqual([...allowedActions({ status: 'DISPATCHED', assignedUnitId: 'u1' }, officer)], ['acknowledge']);
  assert.deepEqual([...allowedActions({ status: 'DISPATCHED', assignedUnitId: 'u2' }, officer)], []);
  assert.deepEqual([...allowedActions({ status: 'NEW', assignedUnitId: null }, dispatcher)].sort(), ['dismiss', 'dispatch']);
  assert.deepEqual([...allowedActions({ status: 'RESOLVED', assignedUnitId: 'u1' }, dispatcher)], []);
});

test('stats: quantiles, histogram, buckets including empty ones, response times', () => {
  assert.equal(quantile([], 0.5), null);
  assert.equal(quantile([5], 0.9), 5);
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantile([10, 1, 2, 3, 4, 5, 6, 7, 8, 9], 0.9), 9.1);
  assert.throws(() => quantile([1], 2), StatsInputError);
  const d = distribution([10, 45, 45, 100000, -1, Number.NaN]);
  assert.equal(d.count, 4);
  assert.equal(d.histogram[0]!.count, 1); // ≤30 s
  assert.equal(d.histogram[1]!.count, 2); // ≤60 s
  assert.equal(d.histogram.at(-1)!.count, 1); // open-ended bin
  assert.ok(Number.isFinite(d.histogram.at(-1)!.upToSeconds));

  assert.equal(bucketStart(new Date('2026-03-01T23:30:00Z'), 'day', 60).toISOString(), '2026-03-01T23:00:00.000Z'); // local midnight at UTC+1
  const from = new Date('2026-03-01T10:00:00Z');
  const to = new Date('2026-03-01T13:00:00Z');
  // Grouped counts keyed by bucket start: every bucket of the period present, gaps as zeros, nothing past `to`.
  const at = (iso: string) => new Date(iso).getTime();
  const b = timeBucketsFromCounts(
    new Map([[at('2026-03-01T10:00:00Z'), 1], [at('2026-03-01T12:00:00Z'), 1], [at('2026-03-01T13:00:00Z'), 1]]),
    new Map([[at('2026-03-01T12:00:00Z'), 1]]),
    from,
    to,
    'hour',
  );
  assert.deepEqual(b.map((x) => [x.label, x.violations, x.alerts]), [['03-01 10:00', 1, 0], ['03-01 11:00', 0, 0], ['03-01 12:00', 1, 1]]);
  // Cameras folded into their category (here: a zone), largest first.
  const zoneOf = (id: string) => (id === 'cam-3' ? 'x' : 'y');
  const c = categoryBucketsFromCounts(new Map([['cam-1', 1], ['cam-2', 1], ['cam-3', 1]]), new Map([['cam-3', 1]]), zoneOf, (k) => k.toUpperCase());
  assert.deepEqual(c.map((x) => [x.label, x.violations, x.alerts]), [['Y', 2, 0], ['X', 1, 1]]);
  const t0 = new Date('2026-03-01T10:00:00Z');
  const plus = (s: number) => new Date(t0.getTime() + s * 1000);
  // The first alert was reassigned at +70 s: dispatch time counts its first dispatch, acknowledge time the one acknowledged.
  const rt = responseTimes([
    { createdAt: t0, firstDispatchedAt: plus(30), dispatchedAt: plus(70), acknowledgedAt: plus(90), resolvedAt: plus(600) },
    { createdAt: t0, firstDispatchedAt: plus(60), dispatchedAt: plus(60), acknowledgedAt: null, resolvedAt: null },
    { createdAt: t0, firstDispatchedAt: null, dispatchedAt: null, acknowledgedAt: null, resolvedAt: null },
  ]);
  assert.deepEqual([rt.toDispatch.count, rt.toDispatch.medianSeconds], [2, 45]);
  assert.deepEqual([rt.toAcknowledge.count, rt.toAcknowledge.medianSeconds], [1, 20]);
  assert.deepEqual([rt.toResolve.count, rt.toResolve.p90Seconds], [1, 600]);
  assert.throws(() => checkRange(to, from), /after/);
  assert.throws(() => checkRange(new Date('2020-01-01'), new Date('2022-01-01')), /at most/);
});

test('CSV cells: RFC 4180 quoting and formula neutralisation of text only', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
  assert.equal(csvCell('=1+2'), "'=1+2");
  assert.equal(csvCell('+33 1 23'), "'+33 1 23");
  assert.equal(csvCell('-cmd'), "'-cmd");
  assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
  assert.equal(csvCell('\t=x'), "'\t=x");
  assert.equal(csvCell('=HYPERLINK("x","y")'), `"'=HYPERLINK(""x"",""y"")"`);
  assert.equal(csvCell(-3.7038), '-3.7038'); // numbers stay numbers
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(new Date('2026-03-01T10:00:00Z')), '2026-03-01T10:00:00.000Z');
  assert.equal(csvRow(['a', 1, null]), 'a,1,\r\n');
});

test('alert actions: rooms of an update and HTTP status of each failure', () => {
  const noZone = { zone: null };
  assert.deepEqual(updateRooms({ assignedUnitId: null, camera: noZone }, null), ['dispatch']);
  assert.deepEqual(updateRooms({ assignedUnitId: 'u2', camera: noZone }, 'u1'), ['dispatch', 'unit:u2', 'unit:u1']);
  assert.deepEqual(updateRooms({ assignedUnitId: 'u1', camera: noZone }, 'u1'), ['dispatch', 'unit:u1']);
  // A zoned camera's alerts also go to its zone's dispatchers.
  assert.deepEqual(updateRooms({ assignedUnitId: 'u1', camera: { zone: 'Centro' } }), ['dispatch', 'zone:Centro', 'unit:u1']);
  const lifecycle = (code: 'ILLEGAL_TRANSITION' | 'FORBIDDEN' | 'INVALID_INPUT') =>
    outcomeProblem({ ok: false, kind: 'LIFECYCLE', error: new LifecycleError(code, 'x', 'NEW', 'acknowledge') }).status;
  assert.equal(lifecycle('ILLEGAL_TRANSITION'), 409);
  assert.equal(lifecycle('FORBIDDEN'), 403);
  assert.equal(lifecycle('INVALID_INPUT'), 400);
  assert.equal(outcomeProblem({ ok: false, kind: 'STALE', message: 'x' }).status, 409);
  assert.equal(outcomeProblem({ ok: false, kind: 'NOT_FOUND', message: 'x' }).status, 404);
  assert.equal(outcomeProblem({ ok: false, kind: 'UNIT', code: 'CONFLICT', message: 'x' }).status, 409);
});

test('resolved alerts by outcome: the vocabulary\'s order, then none; unknown values count as none; empty ones left out', () => {
  const counts = new Map<string | null, number>([
    [null, 2],
    ['OTHER', 1],
    ['MASK_PUT_ON', 5],
    ['ARRESTED', 1],
  ]);
  assert.deepEqual(resolutionOutcomeCounts(counts), [
    { outcome: 'MASK_PUT_ON', alerts: 5 },
    { outcome: 'OTHER', alerts: 1 },
    { outcome: null, alerts: 3 },
  ]);
  assert.deepEqual(resolutionOutcomeCounts(new Map()), []);
});

test('false positives per camera: people dispatchers marked, and resolved alerts officers found no violation in', () => {
  const people = [
    { cameraId: 'a', falsePositive: true },
    { cameraId: 'a', falsePositive: false },
    { cameraId: 'b', falsePositive: false },
  ];
  const resolved = [
    { cameraId: 'b', outcome: 'NOT_A_VIOLATION', alerts: 2 },
    { cameraId: 'b', outcome: 'WARNED', alerts: 1 },
    { cameraId: 'b', outcome: null, alerts: 1 },
    { cameraId: 'c', outcome: 'MASK_PUT_ON', alerts: 1 },
  ];
  assert.deepEqual(falsePositiveRates(people, resolved, (id) => id.toUpperCase()), [
    { cameraId: 'a', label: 'A', people: 2, falsePositives: 1, rate: 0.5, resolvedAlerts: 0, notAViolation: 0 },
    { cameraId: 'b', label: 'B', people: 1, falsePositives: 0, rate: 0, resolvedAlerts: 4, notAViolation: 2 },
    { cameraId: 'c', label: 'C', people: 0, falsePositives: 0, rate: 0, resolvedAlerts: 1, notAViolation: 0 },
  ]);
});

test('a sign-in again keeps the page only when the access is the same (role, unit, zones)', () => {
  const ana = { id: 'u1', username: 'ana', role: 'DISPATCHER' as const, unitId: null, zones: ['Centro', 'Norte'] };
  assert.equal(sameAccess(ana, { ...ana, zones: ['Norte', 'Centro'] }), true);
  assert.equal(sameAccess({ ...ana, zones: undefined }, { ...ana, zones: [] }), true, 'a session stored before zones existed');
  assert.equal(sameAccess(ana, { ...ana, zones: ['Centro'] }), false);
  assert.equal(sameAccess(ana, { ...ana, zones: [] }), false);
  assert.equal(sameAccess(ana, { ...ana, role: 'ADMIN' }), false);
  assert.equal(sameAccess({ ...ana, role: 'OFFICER', unitId: 'p1' }, { ...ana, role: 'OFFICER', unitId: 'p2' }), false);
});

test('a card counts the people who have put a mask on since, leaving out false positives', () => {
  const p = (maskedSince: string | null, falsePositive = false) => ({ maskedSince, falsePositive });
  const at = '2026-12-06T10:00:00.000Z';
  assert.equal(maskedText({ people: [p(null), p(null)] }), '');
  assert.equal(maskedText({ people: [p(at)] }), ' · now wearing a mask');
  assert.equal(maskedText({ people: [p(at), p(null), p(at)] }), ' · 2 now wearing a mask');
  assert.equal(maskedText({ people: [p(at), p(at), p(null, true)] }), ' · all now wearing a mask');
});

test('the officer closing an incident is offered "Mask put on" only when everyone left has put a mask on', () => {
  const p = (maskedSince: string | null, falsePositive = false) => ({ maskedSince, falsePositive });
  const [early, late] = ['2026-12-06T10:00:00.000Z', '2026-12-06T10:04:30.000Z'];
  assert.equal(maskPutOnHint({ people: [] }), null);
  assert.equal(maskPutOnHint({ people: [p(early), p(null)] }), null, 'one still without a mask');
  assert.equal(maskPutOnHint({ people: [p(early)] }), `The camera has seen the person wearing a mask since ${formatClock(early)}.`);
  assert.equal(maskPutOnHint({ people: [p(late), p(early), p(null, true)] }), `The camera has seen everyone wearing a mask since ${formatClock(late)}.`, 'since the last of them');
  assert.equal(maskPutOnHint({ people: [p(null, true)] }), null, 'nobody left but false positives');
});
