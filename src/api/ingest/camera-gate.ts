import type { Redis } from 'ioredis';
import type { CameraRepository } from '../../db/repositories/cameras.ts';
import { backlogKey } from '../../queue/backlog.ts';

/**
 * Camera admission for ingestion in ONE Redis round trip: API-key check and
 * backlog slot together, instead of a database query plus a Redis call per frame.
 *
 * Redis holds `${prefix}:camkey:<sha256 of key>` → cameraId | "disabled:<id>" |
 * "revoked". The database stays the source of truth: a missing entry is filled
 * from it (SET NX, with a TTL). Admin changes write Redis FIRST and fail if Redis
 * is unreachable (see revoke/disable below), and fills never overwrite (NX), so a
 * rotated or disabled key is refused at once on every API instance — no entry
 * outlives a rotation.
 *
 * The same call keeps `${prefix}:tracking:<cameraId>` → the capture time (ms) up to which an upload of the
 * camera may still continue one of its tracks. Tracks start only at a violating face and match a face at most
 * the incident window after their last sighting (domain/incidents.ts), so every admitted upload that may
 * start or extend a track pushes that time to its capture time + the window, and an edge upload of masked
 * faces only (it can start nothing) asks for a slot only while the time is not passed: otherwise it would
 * change nothing central, and costs no job. This over-approximates "the camera has a live track": it never
 * drops a face a track could have matched.
 *
 * The script builds the backlog and tracking keys from the prefix and the looked-up camera id,
 * so it assumes a single Redis (not Redis Cluster), as the rest of the stack does.
 */
export type Admission =
  | { status: 'ok'; cameraId: string; backlog: number }
  | { status: 'checked'; cameraId: string } // key valid, no slot asked for
  | { status: 'full'; cameraId: string; backlog: number }
  | { status: 'unknown' }
  | { status: 'disabled'; cameraId: string };

const ADMIT = `
local v = redis.call('GET', KEYS[1])
if not v then return {'miss'} end
if v == 'revoked' then return {'unknown'} end
if string.sub(v, 1, 9) == 'disabled:' then return {'disabled', string.sub(v, 10)} end
if ARGV[1] == '0' then return {'checked', v} end
local tk = ARGV[8] .. v
local live = redis.call('GET', tk)
if ARGV[1] == '2' and ((not live) or tonumber(live) < tonumber(ARGV[9])) then return {'checked', v} end
local bk = ARGV[2] .. v
redis.call('ZREMRANGEBYSCORE', bk, '-inf', ARGV[3])
local n = redis.call('ZCARD', bk)
if n >= tonumber(ARGV[5]) then return {'full', v, n} end
redis.call('ZADD', bk, ARGV[4], ARGV[6])
redis.call('PEXPIRE', bk, ARGV[7])
if ARGV[10] ~= '' and ((not live) or tonumber(live) < tonumber(ARGV[10])) then redis.call('SET', tk, ARGV[10], 'PX', ARGV[11]) end
return {'ok', v, n + 1}`;

const CANCEL = `
local v = redis.call('GET', KEYS[1])
if v and v ~= 'revoked' and string.sub(v, 1, 9) ~= 'disabled:' then redis.call('ZREM', ARGV[1] .. v, ARGV[2]) end
return 1`;

export interface CameraGateOptions {
  redis: Redis;
  prefix: string;
  cameras: CameraRepository;
  /** Lifetime of a cached key entry; tombstones live as long. */
  ttlSeconds?: number;
  /** Same as the backlog's: reservations older than this are pruned. */
  staleAfterMs?: number;
  now?: () => number;
}

type AdmitReply = [string, string?, number?];

/** What an upload may do to the camera's tracks (see above); without it, an admit leaves them alone. */
export interface TrackingHint {
  capturedAtMs: number;
  /** The incident window: how long after its last sighting a track can still match a face. */
  windowMs: number;
  /** False for an upload of masked faces only: queued only while a track may be live. */
  mayStartTrack: boolean;
}

export function trackingKey(prefix: string, cameraId: string): string {
  return `${prefix}:tracking:${cameraId}`;
}

export function cameraKeyCacheKey(prefix: string, keyHash: string): string {
  return `${prefix}:camkey:${keyHash}`;
}

export function createCameraGate(opts: CameraGateOptions) {
  const ttl = opts.ttlSeconds ?? 600;
  const staleAfterMs = opts.staleAfterMs ?? 15 * 60_000;
  const now = opts.now ?? Date.now;
  const cacheKey = (hash: string) => cameraKeyCacheKey(opts.prefix, hash);
  // EVALSHA via ioredis' defineCommand: the script body is sent once per connection, not per frame.
  const redis = opts.redis as Redis & {
    mwAdmitCamera(key: string, ...args: string[]): Promise<AdmitReply>;
    mwCancelAdmission(key: string, ...args: string[]): Promise<number>;
  };
  if (typeof redis.mwAdmitCamera !== 'function') redis.defineCommand('mwAdmitCamera', { numberOfKeys: 1, lua: ADMIT });
  if (typeof redis.mwCancelAdmission !== 'function') redis.defineCommand('mwCancelAdmission', { numberOfKeys: 1, lua: CANCEL });

  // keyHash → when this instance last saw the key valid (bounded; only valid keys): lets the upload guard
  // skip its pre-body Redis check for a camera whose previous upload was admitted moments ago.
  const validAt = new Map<string, number>();
  const MAX_REMEMBERED = 50_000;
  const remember = (hash: string, admission: Admission): Admission => {
    if (admission.status === 'ok' || admission.status === 'checked' || admission.status === 'full') {
      if (validAt.size >= MAX_REMEMBERED && !validAt.has(hash)) validAt.clear();
      validAt.set(hash, now());
    } else validAt.delete(hash);
    return admission;
  };

  const run = (hash: string, frameId: string | null, max: number, tracking: TrackingHint | undefined) => {
    const t = now();
    const mode = !frameId ? '0' : tracking && !tracking.mayStartTrack ? '2' : '1';
    return redis.mwAdmitCamera(
      cacheKey(hash),
      mode,
      backlogKey(opts.prefix, ''),
      String(t - staleAfterMs),
      String(t),
      String(max),
      frameId ?? '',
      String(staleAfterMs),
      trackingKey(opts.prefix, ''),
      tracking ? String(tracking.capturedAtMs) : '',
      tracking ? String(tracking.capturedAtMs + tracking.windowMs) : '',
      // Wall-clock lifetime: a window from now covers the next captures of a camera whose clock is off (constant
      // skew); twice that, for uploads delayed on the way.
      tracking ? String(2 * tracking.windowMs) : '',
    );
  };

  function toAdmission(reply: AdmitReply): Admission | null {
    const [status, cameraId, n] = reply;
    switch (status) {
      case 'ok':
        return { status, cameraId: cameraId!, backlog: Number(n) };
      case 'full':
        return { status, cameraId: cameraId!, backlog: Number(n) };
      case 'checked':
        return { status, cameraId: cameraId! };
      case 'disabled':
        return { status, cameraId: cameraId! };
      case 'unknown':
        return { status };
      default:
        return null; // miss
    }
  }

  return {
    /**
     * Checks a key (by its hash) and, when `frameId` is given, reserves a backlog
     * slot for it in the same step ('checked' instead when `tracking` says the upload
     * cannot matter to a track). Throws when Redis is unreachable.
     */
    async admit(keyHash: string, frameId: string | null, maxBacklog: number, tracking?: TrackingHint): Promise<Admission> {
      const first = toAdmission(await run(keyHash, frameId, maxBacklog, tracking));
      if (first) return remember(keyHash, first);
      const camera = await opts.cameras.findByKeyHash(keyHash);
      if (!camera) return remember(keyHash, { status: 'unknown' }); // not cached: unknown keys cost a lookup, never an entry
      await opts.redis.set(cacheKey(keyHash), camera.enabled ? camera.id : `disabled:${camera.id}`, 'EX', ttl, 'NX');
      return remember(keyHash, toAdmission(await run(keyHash, frameId, maxBacklog, tracking)) ?? { status: 'unknown' });
    },
    /** When this instance's last admit found the key valid (ms, its clock); undefined if not lately or refused since. */
    validAt(keyHash: string): number | undefined {
      return validAt.get(keyHash);
    },
    /**
     * Gives back the slot of an admit that failed on our side (timed out): sent on
     * the same connection after it, so it runs after it even if that one was late.
     */
    async cancel(keyHash: string, frameId: string): Promise<void> {
      await redis.mwCancelAdmission(cacheKey(keyHash), backlogKey(opts.prefix, ''), frameId);
    },
    /**
     * A new key (camera created, key rotated), entered at once so its first uploads need no database
     * lookup — a thousand new cameras do not queue a thousand lookups. A fill like a miss's (NX): it never
     * overwrites an admin change that got there first.
     */
    async prime(keyHash: string, cameraId: string): Promise<void> {
      await opts.redis.set(cacheKey(keyHash), cameraId, 'EX', ttl, 'NX');
    },
    /** Before a key rotation is committed: the old key stops working everywhere. */
    async revoke(keyHash: string): Promise<void> {
      await opts.redis.set(cacheKey(keyHash), 'revoked', 'EX', ttl);
    },
    /** Undo a revoke whose database change then failed. */
    async forget(keyHash: string): Promise<void> {
      await opts.redis.del(cacheKey(keyHash));
    },
    /** Before disabling / after enabling in the database. */
    async setEnabled(keyHash: string, cameraId: string, enabled: boolean): Promise<void> {
      await opts.redis.set(cacheKey(keyHash), enabled ? cameraId : `disabled:${cameraId}`, 'EX', ttl);
    },
  };
}

export type CameraGate = ReturnType<typeof createCameraGate>;
