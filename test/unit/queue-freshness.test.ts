import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHandlingTimeEstimate, staleByMs } from '../../src/queue/freshness.ts';

const NOW = Date.parse('2030-01-01T12:00:00.000Z');
const policy = { maxAgeMs: 10_000, now: () => NOW };
const frame = (ageMs: number, receivedAgeMs = ageMs) => ({ captured: new Date(NOW - ageMs), received: new Date(NOW - receivedAgeMs) });

describe('freshness', () => {
  it('a frame is stale when its age plus the expected handling time passes the bound', () => {
    assert.equal(staleByMs(frame(9_000), policy), null);
    assert.equal(staleByMs(frame(10_001), policy), 10_001);
    // 9 s old, handling takes ~1.5 s: its alert would come 10.5 s after the scene.
    assert.equal(staleByMs(frame(9_000), policy, 1_500), 9_000);
    assert.equal(staleByMs(frame(8_000), policy, 1_500), null);
    // The earlier of capture and receipt counts (a spooled frame delivered late is old).
    assert.equal(staleByMs(frame(100, 12_000), policy), 12_000);
    assert.equal(staleByMs(frame(60_000), { ...policy, maxAgeMs: 0 }), null, 'bound off');
  });

  it('expected handling time: 0 before any job, then the longest of the recent ones', () => {
    const est = createHandlingTimeEstimate(20);
    assert.equal(est.expectedMs(), 0);
    // One slow job in 20: a 90th percentile would say 10 ms, and that job's kind would overshoot the bound.
    for (let i = 1; i <= 20; i++) est.observe(i === 4 ? 1_000 : 10);
    assert.equal(est.expectedMs(), 1_000, 'one slow job among fast ones sets it');
    // Only the last 20 count: old slow jobs age out.
    for (let i = 0; i < 20; i++) est.observe(50);
    assert.equal(est.expectedMs(), 50);
  });
});
