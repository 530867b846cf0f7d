import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullJitterDelay, parseRetryAfter, retryDelay, validateBackoff } from '../../src/agent/backoff.ts';
import { classifyResponse } from '../../src/agent/upload.ts';
import { nextTickIndex } from '../../src/agent/pacing.ts';
import { percentile } from '../../src/agent/stats.ts';

const policy = { baseMs: 100, maxMs: 5000 };

describe('agent backoff', () => {
  it('full jitter: uniform below min(max, base·2^attempt)', () => {
    assert.equal(fullJitterDelay(0, policy, () => 0), 0);
    assert.equal(fullJitterDelay(0, policy, () => 0.999), 99);
    assert.equal(fullJitterDelay(3, policy, () => 0.5), 400);
    assert.equal(fullJitterDelay(10, policy, () => 0.5), 2500, 'capped at maxMs');
    assert.equal(fullJitterDelay(5000, policy, () => 0.999), 4995, 'huge attempt numbers stay capped');
    assert.throws(() => fullJitterDelay(-1, policy), RangeError);
    assert.throws(() => validateBackoff({ baseMs: 0, maxMs: 10 }), RangeError);
    assert.throws(() => validateBackoff({ baseMs: 100, maxMs: 10 }), RangeError);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('5', now), 5000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0, 'a past date means now');
    assert.equal(parseRetryAfter('soon', now), null);
    assert.equal(parseRetryAfter(null, now), null);
    assert.equal(parseRetryAfter('-3', now), null);
  });

  it('Retry-After is a floor, jitter spreads clients above it', () => {
    assert.equal(retryDelay(2, 5000, policy, () => 0), 5000);
    assert.equal(retryDelay(2, 5000, policy, () => 0.5), 5200);
    assert.equal(retryDelay(2, null, policy, () => 0.5), 200);
  });
});

describe('agent response handling', () => {
  it('retries on 5xx and 429, drops other 4xx, stops on 401', () => {
    assert.deepEqual(classifyResponse(202, null, ''), { kind: 'ok' });
    assert.deepEqual(classifyResponse(503, '5', 'queue down', 0), { kind: 'retry', status: 503, retryAfterMs: 5000, reason: 'queue down' });
    assert.equal(classifyResponse(429, null, '').kind, 'retry');
    assert.equal(classifyResponse(500, null, '').kind, 'retry');
    assert.equal(classifyResponse(401, null, 'unknown key').kind, 'unauthorized');
    for (const s of [400, 403, 404, 413, 415, 422]) assert.equal(classifyResponse(s, null, '').kind, 'reject', String(s));
  });
});

describe('agent pacing and stats', () => {
  it('skips ticks missed by a slow consumer instead of bursting', () => {
    assert.equal(nextTickIndex(0, 500, -1), 0);
    assert.equal(nextTickIndex(10, 500, 0), 1);
    assert.equal(nextTickIndex(2600, 500, 1), 6);
  });

  it('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(v, 50), 50);
    assert.equal(percentile(v, 95), 95);
    assert.equal(percentile(v, 100), 100);
    assert.equal(percentile([7], 99), 7);
    assert.equal(percentile([], 50), null);
    assert.throws(() => percentile(v, 101), RangeError);
  });
});
