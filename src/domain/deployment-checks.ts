/**
 * What `maskwatch doctor` concludes from what it read off a deployment, as pure rules: each check says ok,
 * warn or fail, what it found, and how to fix it. The probes that read the deployment are
 * src/system/doctor.ts; the requirements come from docs/operations.md.
 */
import type { Instance, SystemCheck } from '../contracts/api.ts';

/** One check's conclusion: ok, warn, fail or skipped, what was found, and what to do about it. */
export type CheckResult = SystemCheck;

export const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });
export const skipped = (name: string, detail: string): CheckResult => ({ name, status: 'skipped', detail });

/**
 * Clock differences between hosts: capture times are checked against the API's clock (a frame more than 5 min
 * ahead is refused), escalation timers and two-factor codes (±30 s) depend on it. NTP keeps hosts within
 * milliseconds; a second means it is not running.
 */
export const CLOCK_WARN_MS = 1000;
export const CLOCK_FAIL_MS = 30_000;

export function clockCheck(name: string, against: string, skewMs: number): CheckResult {
  const off = Math.abs(skewMs);
  const detail = `${(off / 1000).toFixed(3)} s ${skewMs > 0 ? 'ahead of' : 'behind'} this host`;
  const fix = `run NTP (chrony or systemd-timesyncd) on this host and on ${against}'s`;
  if (off >= CLOCK_FAIL_MS) return fail(name, `${against} is ${detail}: two-factor codes and capture times are judged wrongly`, fix);
  if (off >= CLOCK_WARN_MS) return warn(name, `${against} is ${detail}`, fix);
  return ok(name, `${against} is ${detail}`);
}

/** `INFO` output as field → value (`# Section` headers and blank lines dropped). */
export function parseRedisInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return fields;
}

/**
 * Redis as docs/operations.md requires it: the append-only file (a frame answered 202 is in Redis only until
 * a worker takes it, so without it a Redis restart loses accepted frames) and no eviction (BullMQ's job keys
 * must never be evicted). Read from INFO, which managed Redis services answer even where CONFIG is disabled.
 */
export function redisSettingsChecks(info: ReadonlyMap<string, string>): CheckResult[] {
  const version = info.get('redis_version') ?? 'unknown';
  const results: CheckResult[] = [];
  const [major = 0, minor = 0] = version.split('.').map(Number);
  results.push(
    major > 6 || (major === 6 && minor >= 2)
      ? ok('redis version', `Redis ${version}`)
      : warn('redis version', `Redis ${version}`, 'BullMQ is tested with Redis 6.2 or later: upgrade Redis'),
  );
  results.push(
    info.get('aof_enabled') === '1'
      ? ok('redis persistence', 'the append-only file is on')
      : fail(
          'redis persistence',
          'the append-only file is off: frames answered 202 and not yet analysed are lost if Redis restarts',
          'set `appendonly yes` and `appendfsync everysec` in redis.conf (now: redis-cli CONFIG SET appendonly yes); docs/operations.md',
        ),
  );
  const policy = info.get('maxmemory_policy') ?? 'unknown';
  results.push(
    policy === 'noeviction'
      ? ok('redis eviction', 'maxmemory-policy noeviction')
      : fail('redis eviction', `maxmemory-policy ${policy}: Redis may evict queued frames' jobs when memory runs short`, 'set `maxmemory-policy noeviction` in redis.conf (BullMQ requires it)'),
  );
  return results;
}

/** The data folder holds faces: no other account on the host may read it. */
export function dataDirModeCheck(dir: string, mode: number): CheckResult {
  const open = mode & 0o077;
  if (open === 0) return ok('data folder access', `${dir} is owner-only (${(mode & 0o777).toString(8)})`);
  return warn('data folder access', `${dir} is ${(mode & 0o777).toString(8)}: other accounts on this host can see into the folder that holds faces`, `chmod 700 ${dir}`);
}

/** Free space under the data folder: frames and crops stop being stored when it runs out. */
export const DISK_FAIL_BYTES = 1024 ** 3;
export const DISK_WARN_FRACTION = 0.1;

export function diskSpaceCheck(dir: string, freeBytes: number, totalBytes: number): CheckResult {
  const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
  const detail = `${gib(freeBytes)} free of ${gib(totalBytes)} under ${dir}`;
  const fix = 'free space or lower MASKWATCH_RETENTION_DAYS; frames and crops need room until retention deletes them';
  if (freeBytes < DISK_FAIL_BYTES) return fail('disk space', detail, fix);
  if (freeBytes < totalBytes * DISK_WARN_FRACTION) return warn('disk space', detail, fix);
  return ok('disk space', detail);
}

/**
 * How browsers reach MaskWatch: TLS belongs in front of it (SECURITY.md), and a TLS proxy must be trusted
 * (MASKWATCH_TRUST_PROXY) or per-IP limits, sign-in throttling and the audit trail see only the proxy.
 */
export function networkCheck(publicUrl: string | null, trustedProxies: readonly string[]): CheckResult {
  if (!publicUrl) return ok('network', 'the public address is taken from each request (MASKWATCH_PUBLIC_URL is not set)');
  const url = new URL(publicUrl);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:' && !loopback) {
    return warn('network', `people reach MaskWatch at ${publicUrl}: passwords, tokens and faces cross the network unencrypted`, 'terminate TLS in front of MaskWatch and set MASKWATCH_PUBLIC_URL to its https address (SECURITY.md, deployment checklist)');
  }
  if (url.protocol === 'https:' && trustedProxies.length === 0) {
    return warn('network', `${publicUrl} is served through a TLS proxy that MaskWatch does not trust: per-IP limits, sign-in throttling and the audit trail see the proxy's address, not the clients'`, "set MASKWATCH_TRUST_PROXY to the proxy's address");
  }
  return ok('network', `${publicUrl}${trustedProxies.length > 0 ? `, behind ${trustedProxies.join(', ')}` : ''}`);
}

export interface DoctorSummary {
  ok: boolean;
  failed: number;
  warnings: number;
}

/** How one webhook target answered a probe: an HTTP status (any status: it is there), or why nothing answered. */
export type WebhookProbe = { name: string; url: string } & ({ status: number } | { error: string });

/**
 * Webhook targets (MASKWATCH_WEBHOOKS: a CAD, a SIEM) must be reachable from here, or alerts never reach them:
 * deliveries are retried and logged, but nobody reads that log during an outage. Any HTTP answer counts (a
 * probe is a HEAD, which a POST-only endpoint may refuse).
 */
export function webhooksCheck(probes: readonly WebhookProbe[]): CheckResult {
  const name = 'webhooks';
  if (probes.length === 0) return skipped(name, 'none configured (MASKWATCH_WEBHOOKS)');
  const down = probes.filter((p): p is Extract<WebhookProbe, { error: string }> => 'error' in p);
  const answered = probes.filter((p): p is Extract<WebhookProbe, { status: number }> => 'status' in p).map((p) => `${p.name} (HTTP ${p.status})`);
  if (down.length > 0) {
    return fail(
      name,
      `${down.map((p) => `${p.name} at ${p.url} did not answer: ${p.error}`).join('; ')}${answered.length ? `; ${answered.join(', ')} answered` : ''}`,
      "check the target's URL in MASKWATCH_WEBHOOKS, that it runs, and that this host reaches it (firewall, proxy, certificate); deliveries are retried meanwhile (Admin › Webhooks)",
    );
  }
  return ok(name, `${answered.join(', ')} answered from this host`);
}

/** What an instance runs and with which shared settings; `maskwatch doctor` adds its own host's configuration. */
export type InstanceView = Pick<Instance, 'kind' | 'host' | 'pid' | 'version' | 'schema' | 'settings'>;

/** "worker on host-b (pid 12)"; pid 0 is the doctor's own configuration. */
const placeOf = (i: InstanceView) => (i.pid === 0 ? `this host's configuration` : `${i.kind === 'api' ? 'API' : 'worker'} on ${i.host} (pid ${i.pid})`);

/** What every instance must share, each as the text that names its value (also the metric's `setting` label). */
const SHARED = {
  secret_key: (i: InstanceView) => (i.settings.signingKeyFingerprint ? `secret key with signing fingerprint ${i.settings.signingKeyFingerprint.slice(0, 12)}…` : 'no readable secret key'),
  release: (i: InstanceView) => `release ${i.version} (schema ${i.schema})`,
  retention_days: (i: InstanceView) => `MASKWATCH_RETENTION_DAYS=${i.settings.retentionDays}`,
  incorrect_mask: (i: InstanceView) => `MASKWATCH_INCORRECT_MASK=${i.settings.incorrectMaskPolicy}`,
} as const;
export type SharedSetting = keyof typeof SHARED;

/** How many different values each shared setting takes across the instances: 1 each (or 0, none running) is right. */
export function instanceSpread(instances: readonly InstanceView[]): Record<SharedSetting, number> {
  return Object.fromEntries(Object.entries(SHARED).map(([setting, valueOf]) => [setting, new Set(instances.map(valueOf)).size])) as Record<SharedSetting, number>;
}

/** The values a setting takes across instances, each with where (at most 3 places named): "" when all agree. */
function disagreement(instances: readonly InstanceView[], valueOf: (i: InstanceView) => string): string {
  const by = new Map<string, string[]>();
  for (const i of instances) by.set(valueOf(i), [...(by.get(valueOf(i)) ?? []), placeOf(i)]);
  if (by.size < 2) return '';
  return [...by].map(([value, places]) => `${value} on ${places.slice(0, 3).join(', ')}${places.length > 3 ? ` and ${places.length - 3} more` : ''}`).join('; ');
}

/**
 * Instances of one deployment must run one release and share the secret key and the retention and policy
 * settings: another secret key seals the audit trail and TOTP secrets apart and signs evidence with another
 * key; another retention period deletes faces on its own schedule. `here`: the doctor's own configuration,
 * compared too (pid 0), so a host is checked before it joins.
 */
export function instancesCheck(running: readonly InstanceView[], here?: Omit<InstanceView, 'kind' | 'host' | 'pid'>): CheckResult {
  const name = 'instances';
  if (running.length === 0) {
    return warn(name, 'no API or worker process announces itself on this Redis and queue prefix', 'start `maskwatch start`, `api` or `worker` with this REDIS_URL and MASKWATCH_QUEUE_PREFIX');
  }
  const all: InstanceView[] = here ? [...running, { ...here, kind: 'api', host: '', pid: 0 }] : [...running];
  const apis = running.filter((i) => i.kind === 'api').length;
  const hosts = new Set(running.map((i) => i.host)).size;
  const summary = `${running.length} running (${apis} API, ${running.length - apis} worker${running.length - apis === 1 ? '' : 's'}) on ${hosts} host${hosts === 1 ? '' : 's'}`;
  const noKey = all.filter((i) => i.settings.signingKeyFingerprint === null);
  if (noKey.length > 0) return fail(name, `${summary}; the secret key could not be read by ${noKey.map(placeOf).join(', ')}`, 'give every instance MASKWATCH_SECRET_KEY, or a readable secret.key in its data folder');
  const keys = disagreement(all, SHARED.secret_key);
  if (keys) {
    return fail(name, `${summary}, with different secret keys: ${keys}. Audit seals, two-factor secrets and evidence signatures of one cannot be checked by another`, 'set the same MASKWATCH_SECRET_KEY on every instance, then restart them');
  }
  const differences = [SHARED.release, SHARED.retention_days, SHARED.incorrect_mask].map((valueOf) => disagreement(all, valueOf)).filter(Boolean);
  if (differences.length > 0) return warn(name, `${summary}, not alike: ${differences.join('. ')}`, 'run one release with the same settings everywhere (an upgrade in progress settles when every host has restarted)');
  const { version, schema } = all[0]!;
  return ok(name, `${summary}: release ${version} (schema ${schema}), one secret key, the same retention and mask policy${here ? ' as this host' : ''}`);
}

/** A deployment passes when nothing failed; warnings are for a person to weigh. */
export function summarise(results: readonly CheckResult[]): DoctorSummary {
  const failed = results.filter((r) => r.status === 'fail').length;
  return { ok: failed === 0, failed, warnings: results.filter((r) => r.status === 'warn').length };
}
