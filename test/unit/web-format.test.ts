/** Live durations on the dashboard (src/web/format.ts): whole minutes, so a screen refreshed every few seconds never looks frozen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAgo, formatDuration, formatElapsed } from '../../src/web/format.ts';

test('a ticking duration shows whole minutes; under a minute "<1 min"', () => {
  assert.equal(formatElapsed(0), '<1 min');
  assert.equal(formatElapsed(59.9), '<1 min');
  assert.equal(formatElapsed(60), '1 min');
  assert.equal(formatElapsed(156), '2 min', 'not "2 min 36 s", frozen until the next refresh');
  assert.equal(formatElapsed(3599), '59 min');
  assert.equal(formatElapsed(3 * 3600 + 5 * 60 + 59), '3 h 05 min');
  assert.equal(formatElapsed(null), '–');
  assert.equal(formatElapsed(Number.NaN), '–');
  // Response times in statistics are measured, not ticking: they keep their seconds.
  assert.equal(formatDuration(156), '2 min 36 s');
});

test('"ago": just now under a minute, then whole minutes', () => {
  const now = Date.parse('2026-01-01T10:10:00Z');
  assert.equal(formatAgo('2026-01-01T10:09:30Z', now), 'just now');
  assert.equal(formatAgo('2026-01-01T10:07:24Z', now), '2 min ago');
  assert.equal(formatAgo('2026-01-01T08:00:00Z', now), '2 h 10 min ago');
  assert.equal(formatAgo('not a date', now), '–');
});
