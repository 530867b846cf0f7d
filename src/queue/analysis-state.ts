/**
 * Per-camera memory of the last analysed frame (domain/analysis-reuse.ts), shared
 * by every worker process through Redis: one small hash per camera
 * `${prefix}:analysis:last:<cameraId>` — its frame's capture time and the state
 * (thumbnail ~1.4 KB base64, faces with boxes, probabilities and reuse counts) —
 * expiring a few seconds after it was written. No image and no identity: a 32×32
 * greyscale thumbnail and numbers.
 *
 * It is a cache: a missing, expired, unreadable or newer-than-the-frame state
 * means "analyse in full", so correctness never depends on it. Frames of one
 * camera may be analysed out of order by several workers, so a state is only
 * replaced by one of a later frame (compare-and-set in one script).
 *
 * The same script counts the work done per frame in `${prefix}:stats:analysis`
 * (read by the API's /metrics): frames skipped as unchanged, faces classified,
 * faces whose verdict was reused.
 */
import type { Redis } from 'ioredis';
import type { CameraAnalysisState, RememberedFace } from '../domain/analysis-reuse.ts';
import type { MaskLabel } from '../vision/types.ts';

/** A remembered face with the verdict an unchanged frame carries over as it is. */
export type StoredFace = RememberedFace & { label: MaskLabel; violation: boolean };
export type StoredAnalysisState = CameraAnalysisState<StoredFace>;

const LABELS: readonly string[] = ['mask', 'no_mask', 'mask_incorrect'];

export function analysisStateKey(prefix: string, cameraId: string): string {
  return `${prefix}:analysis:last:${cameraId}`;
}

export function analysisStatsKey(prefix: string): string {
  return `${prefix}:stats:analysis`;
}

/** Work done by analysis, counted per frame. */
export interface AnalysisWork {
  /** 1 when the detector was skipped because the frame was unchanged. */
  unchanged: number;
  classified: number;
  reused: number;
}

export interface AnalysisStateStore {
  load(cameraId: string): Promise<StoredAnalysisState | null>;
  /** Stores the state unless the camera already has one of a later (or the same) frame; counts `work` either way. */
  save(cameraId: string, state: StoredAnalysisState, work: AnalysisWork): Promise<boolean>;
  /** Cumulative counts since the prefix was created: framesUnchanged, facesClassified, facesReused. */
  totals(): Promise<{ framesUnchanged: number; facesClassified: number; facesReused: number }>;
}

const SAVE = `
local at = redis.call('HGET', KEYS[1], 'at')
local saved = 0
if not at or tonumber(at) < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'at', ARGV[1], 'state', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  saved = 1
end
if ARGV[4] ~= '0' then redis.call('HINCRBY', KEYS[2], 'framesUnchanged', ARGV[4]) end
if ARGV[5] ~= '0' then redis.call('HINCRBY', KEYS[2], 'facesClassified', ARGV[5]) end
if ARGV[6] ~= '0' then redis.call('HINCRBY', KEYS[2], 'facesReused', ARGV[6]) end
return saved`;

interface Stored {
  capturedAt: number;
  width: number;
  height: number;
  thumbnail: string | null;
  unchangedRun: number;
  faces: StoredFace[];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The stored JSON back to a state, or null when it is not one (another version wrote it, or it is damaged). */
export function decodeAnalysisState(raw: string): StoredAnalysisState | null {
  let s: Partial<Stored>;
  try {
    s = JSON.parse(raw) as Partial<Stored>;
  } catch {
    return null;
  }
  if (!s || !finite(s.capturedAt) || !finite(s.width) || !finite(s.height) || !finite(s.unchangedRun) || !Array.isArray(s.faces)) return null;
  const facesOk = s.faces.every(
    (f) =>
      f && Array.isArray(f.box) && f.box.length === 4 && f.box.every(finite) && finite(f.score) && finite(f.reuseCount) && LABELS.includes(f.label) && typeof f.violation === 'boolean' &&
      f.probabilities && finite(f.probabilities.mask) && finite(f.probabilities.no_mask) && finite(f.probabilities.mask_incorrect),
  );
  if (!facesOk) return null;
  const thumbnail = typeof s.thumbnail === 'string' ? new Uint8Array(Buffer.from(s.thumbnail, 'base64')) : null;
  return { capturedAt: s.capturedAt, width: s.width, height: s.height, thumbnail, unchangedRun: s.unchangedRun, faces: s.faces };
}

export function encodeAnalysisState(state: StoredAnalysisState): string {
  const stored: Stored = {
    ...state,
    thumbnail: state.thumbnail ? Buffer.from(state.thumbnail.buffer, state.thumbnail.byteOffset, state.thumbnail.byteLength).toString('base64') : null,
  };
  return JSON.stringify(stored);
}

export function createAnalysisStateStore(redis: Redis, opts: { prefix: string; ttlMs: number }): AnalysisStateStore {
  // EVALSHA via defineCommand: the script body goes once per connection, not per frame.
  const r = redis as Redis & { mwSaveAnalysis(stateKey: string, statsKey: string, ...args: string[]): Promise<number> };
  if (typeof r.mwSaveAnalysis !== 'function') r.defineCommand('mwSaveAnalysis', { numberOfKeys: 2, lua: SAVE });
  const statsKey = analysisStatsKey(opts.prefix);
  return {
    async load(cameraId) {
      const raw = await redis.hget(analysisStateKey(opts.prefix, cameraId), 'state');
      return raw ? decodeAnalysisState(raw) : null;
    },
    async save(cameraId, state, work) {
      const saved = await r.mwSaveAnalysis(
        analysisStateKey(opts.prefix, cameraId),
        statsKey,
        String(state.capturedAt),
        encodeAnalysisState(state),
        String(Math.max(1, Math.round(opts.ttlMs))),
        String(work.unchanged),
        String(work.classified),
        String(work.reused),
      );
      return saved === 1;
    },
    totals: () => analysisWorkTotals(redis, opts.prefix),
  };
}

/** The cumulative counts of `${prefix}:stats:analysis` (the API's /metrics reads them at scrape time). */
export async function analysisWorkTotals(
  redis: Pick<Redis, 'hgetall'>,
  prefix: string,
): Promise<{ framesUnchanged: number; facesClassified: number; facesReused: number }> {
  const raw = await redis.hgetall(analysisStatsKey(prefix));
  const n = (k: string) => Number(raw[k] ?? 0);
  return { framesUnchanged: n('framesUnchanged'), facesClassified: n('facesClassified'), facesReused: n('facesReused') };
}
