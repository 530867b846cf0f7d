/**
 * The rules `maskwatch doctor` concludes by (src/domain/deployment-checks.ts): clock skews, Redis's INFO
 * (persistence, eviction, version), the data folder's mode and free space, the running instances, and the verdict.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clockCheck,
  dataDirModeCheck,
  diskSpaceCheck,
  fail,
  instanceSpread,
  instancesCheck,
  networkCheck,
  type InstanceView,
  ok,
  parseRedisInfo,
  redisSettingsChecks,
  summarise,
  warn,
  webhooksCheck,
} from '../../src/domain/deployment-checks.ts';

const GIB = 1024 ** 3;

describe('deployment checks', () => {
  test('clocks: under a second is ok, from a second a warning, from 30 s a failure; the direction is said', () => {
    assert.deepEqual(clockCheck('redis clock', 'the Redis server', 12), ok('redis clock', 'the Redis server is 0.012 s ahead of this host'));
    assert.equal(clockCheck('c', 'x', -999).status, 'ok');
    const late = clockCheck('c', 'the database server', -1500);
    assert.equal(late.status, 'warn');
    assert.equal(late.detail, 'the database server is 1.500 s behind this host');
    assert.match(late.fix!, /NTP/);
    assert.equal(clockCheck('c', 'x', 29_999).status, 'warn');
    assert.equal(clockCheck('c', 'x', 30_000).status, 'fail');
    assert.equal(clockCheck('c', 'x', -90_000).status, 'fail');
  });

  test("Redis INFO: sections and blank lines skipped, values kept whole (a policy's name, a version)", () => {
    const info = parseRedisInfo('# Server\r\nredis_version:7.0.15\r\nos:Linux 6.1 x86_64\r\n\r\n# Persistence\r\naof_enabled:1\r\n# Memory\r\nmaxmemory_policy:noeviction\r\n');
    assert.equal(info.get('redis_version'), '7.0.15');
    assert.equal(info.get('os'), 'Linux 6.1 x86_64');
    assert.equal(info.get('aof_enabled'), '1');
    assert.equal(info.size, 4);
  });

  test('Redis as docs/operations.md wants it: the append-only file on, no eviction, 6.2 or later', () => {
    const good = new Map([
      ['redis_version', '7.2.4'],
      ['aof_enabled', '1'],
      ['maxmemory_policy', 'noeviction'],
    ]);
    assert.deepEqual(
      redisSettingsChecks(good).map((r) => [r.name, r.status]),
      [
        ['redis version', 'ok'],
        ['redis persistence', 'ok'],
        ['redis eviction', 'ok'],
      ],
    );
    const bad = redisSettingsChecks(new Map([['redis_version', '6.0.16'], ['aof_enabled', '0'], ['maxmemory_policy', 'allkeys-lru']]));
    assert.deepEqual(bad.map((r) => r.status), ['warn', 'fail', 'fail']);
    assert.match(bad[1]!.detail, /lost if Redis restarts/);
    assert.match(bad[1]!.fix!, /appendonly yes/);
    assert.match(bad[2]!.detail, /allkeys-lru/);
    assert.match(bad[2]!.fix!, /noeviction/);
    assert.equal(redisSettingsChecks(new Map([['redis_version', '6.2.0']]))[0]!.status, 'ok');
    assert.deepEqual(redisSettingsChecks(new Map()).map((r) => r.status), ['warn', 'fail', 'fail'], 'nothing known is nothing proven');
  });

  test('the data folder: owner-only is ok; any access for the group or others is a warning', () => {
    assert.equal(dataDirModeCheck('/d', 0o40700).status, 'ok');
    const open = dataDirModeCheck('/d', 0o40755);
    assert.equal(open.status, 'warn');
    assert.match(open.detail, /755/);
    assert.equal(open.fix, 'chmod 700 /d');
    assert.equal(dataDirModeCheck('/d', 0o40710).status, 'warn');
  });

  test('free space: under 1 GiB fails, under a tenth of the disk warns', () => {
    assert.equal(diskSpaceCheck('/d', 50 * GIB, 100 * GIB).status, 'ok');
    assert.equal(diskSpaceCheck('/d', 5 * GIB, 100 * GIB).status, 'warn');
    assert.equal(diskSpaceCheck('/d', 0.5 * GIB, 2 * GIB).status, 'fail');
    assert.equal(diskSpaceCheck('/d', 5 * GIB, 100 * GIB).detail, '5.0 GiB free of 100.0 GiB under /d');
  });

  test('the network: plain HTTP beyond this host warns; a TLS address without a trusted proxy warns', () => {
    assert.equal(networkCheck(null, []).status, 'ok');
    assert.equal(networkCheck('http://127.0.0.1:3000', []).status, 'ok');
    const plain = networkCheck('http://dispatch.example.org', []);
    assert.equal(plain.status, 'warn');
    assert.match(plain.detail, /unencrypted/);
    const untrusted = networkCheck('https://dispatch.example.org', []);
    assert.equal(untrusted.status, 'warn');
    assert.match(untrusted.fix!, /MASKWATCH_TRUST_PROXY/);
    assert.deepEqual(networkCheck('https://dispatch.example.org', ['10.0.0.2']), ok('network', 'https://dispatch.example.org, behind 10.0.0.2'));
  });

  test('instances: alike is ok; another secret key fails, naming where; another release or setting warns; none warns', () => {
    const KEY = 'ab'.repeat(32);
    const settings = { signingKeyFingerprint: KEY, retentionDays: 30, incorrectMaskPolicy: 'violation' };
    const at = (kind: 'api' | 'worker', host: string, pid: number, more: Partial<InstanceView> = {}): InstanceView => ({ kind, host, pid, version: '0.1.0', schema: '2026_b', settings, ...more });
    const fleet = [at('api', 'web-1', 10), at('worker', 'gpu-1', 20), at('worker', 'gpu-1', 21)];
    assert.deepEqual(instancesCheck(fleet), ok('instances', '3 running (1 API, 2 workers) on 2 hosts: release 0.1.0 (schema 2026_b), one secret key, the same retention and mask policy'));
    assert.equal(instancesCheck(fleet, { version: '0.1.0', schema: '2026_b', settings }).detail.endsWith('as this host'), true);

    const otherKey = instancesCheck([...fleet, at('worker', 'gpu-2', 30, { settings: { ...settings, signingKeyFingerprint: 'cd'.repeat(32) } })]);
    assert.equal(otherKey.status, 'fail');
    assert.match(otherKey.detail, /different secret keys: secret key with signing fingerprint abababababab… on API on web-1 \(pid 10\), worker on gpu-1 \(pid 20\), worker on gpu-1 \(pid 21\); secret key with signing fingerprint cdcdcdcdcdcd… on worker on gpu-2 \(pid 30\)/);
    assert.match(otherKey.fix!, /same MASKWATCH_SECRET_KEY/);
    // The doctor on a host about to join: its own configuration is compared too.
    const joining = instancesCheck(fleet, { version: '0.1.0', schema: '2026_b', settings: { ...settings, signingKeyFingerprint: 'ef'.repeat(32) } });
    assert.equal(joining.status, 'fail');
    assert.match(joining.detail, /efefefefefef… on this host's configuration/);
    const unreadable = instancesCheck([...fleet, at('worker', 'gpu-3', 40, { settings: { ...settings, signingKeyFingerprint: null } })]);
    assert.equal(unreadable.status, 'fail');
    assert.match(unreadable.detail, /could not be read by worker on gpu-3 \(pid 40\)/);

    const upgrading = instancesCheck([...fleet, at('api', 'web-2', 50, { version: '0.2.0', schema: '2026_c' }), at('worker', 'gpu-2', 60, { settings: { ...settings, retentionDays: 7 } })]);
    assert.equal(upgrading.status, 'warn');
    assert.match(upgrading.detail, /release 0\.1\.0 \(schema 2026_b\) on API on web-1 \(pid 10\), worker on gpu-1 \(pid 20\), worker on gpu-1 \(pid 21\) and 1 more; release 0\.2\.0 \(schema 2026_c\) on API on web-2 \(pid 50\)\. MASKWATCH_RETENTION_DAYS=30 on .*; MASKWATCH_RETENTION_DAYS=7 on worker on gpu-2 \(pid 60\)$/);
    assert.equal(instancesCheck([...fleet, at('worker', 'gpu-2', 70, { settings: { ...settings, incorrectMaskPolicy: 'ignore' } })]).status, 'warn');

    assert.deepEqual(instanceSpread(fleet), { secret_key: 1, release: 1, retention_days: 1, incorrect_mask: 1 });
    assert.deepEqual(instanceSpread([...fleet, at('worker', 'gpu-2', 60, { version: '0.2.0', settings: { ...settings, signingKeyFingerprint: null } })]), { secret_key: 2, release: 2, retention_days: 1, incorrect_mask: 1 });
    assert.deepEqual(instanceSpread([]), { secret_key: 0, release: 0, retention_days: 0, incorrect_mask: 0 });

    const none = instancesCheck([]);
    assert.equal(none.status, 'warn');
    assert.match(none.fix!, /MASKWATCH_QUEUE_PREFIX/);
  });

  test('webhooks: none is skipped; any HTTP answer is ok; a target that did not answer fails, the others still named', () => {
    assert.equal(webhooksCheck([]).status, 'skipped');
    assert.deepEqual(webhooksCheck([{ name: 'cad', url: 'https://cad.example', status: 405 }]), ok('webhooks', 'cad (HTTP 405) answered from this host'));
    const down = webhooksCheck([
      { name: 'cad', url: 'https://cad.example', status: 204 },
      { name: 'siem', url: 'https://siem.example', error: 'ENOTFOUND' },
    ]);
    assert.equal(down.status, 'fail');
    assert.equal(down.detail, 'siem at https://siem.example did not answer: ENOTFOUND; cad (HTTP 204) answered');
    assert.match(down.fix!, /MASKWATCH_WEBHOOKS/);
  });

  test('the verdict: nothing failed is ok, warnings counted apart', () => {
    assert.deepEqual(summarise([ok('a', ''), warn('b', '', ''), warn('c', '', '')]), { ok: true, failed: 0, warnings: 2 });
    assert.deepEqual(summarise([ok('a', ''), fail('b', '', '')]), { ok: false, failed: 1, warnings: 0 });
  });
});
