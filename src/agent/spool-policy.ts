/**
 * Pure rules of the on-disk frame spool: how entries are named (capture time
 * first, so name order is capture order) and which entries to evict when full.
 */
export interface SpoolEntry {
  /** File name inside the spool folder. */
  name: string;
  capturedAt: Date;
  /** Tie-breaker for frames captured in the same millisecond. */
  seq: number;
  ext: SpoolExtension;
}

/** Images (frame uploads) or json (an edge agent's detections, `--analyze`). */
export type SpoolExtension = 'jpg' | 'png' | 'webp' | 'json';

const NAME = /^(\d{15})-(\d{9})\.(jpg|png|webp|json)$/;

export function spoolEntryName(capturedAt: Date, seq: number, ext: SpoolExtension): string {
  const ms = capturedAt.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`capture time out of range: ${capturedAt}`);
  if (!Number.isInteger(seq) || seq < 0 || seq > 999_999_999) throw new RangeError(`seq out of range: ${seq}`);
  return `${String(ms).padStart(15, '0')}-${String(seq).padStart(9, '0')}.${ext}`;
}

/** The entry a spool file name stands for, or null for foreign files (temp files, strays). */
export function parseSpoolEntryName(name: string): SpoolEntry | null {
  const m = NAME.exec(name);
  if (!m) return null;
  return { name, capturedAt: new Date(Number(m[1])), seq: Number(m[2]), ext: m[3] as SpoolExtension };
}

export function compareEntries(a: SpoolEntry, b: SpoolEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * How many of the oldest entries to evict so that one more fits under `max`.
 * CCTV value decays with age: a full spool sacrifices its oldest frame, never the new one.
 */
export function evictionsToAdmit(currentCount: number, max: number): number {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`spool max must be a positive integer, got ${max}`);
  return Math.max(0, currentCount + 1 - max);
}

export function extensionForImage(image: Buffer): SpoolExtension | null {
  if (image.length >= 3 && image[0] === 0xff && image[1] === 0xd8 && image[2] === 0xff) return 'jpg';
  if (image.length >= 8 && image.readUInt32BE(0) === 0x89504e47 && image.readUInt32BE(4) === 0x0d0a1a0a) return 'png';
  if (image.length >= 12 && image.toString('latin1', 0, 4) === 'RIFF' && image.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return null;
}

export const CONTENT_TYPES: Record<SpoolExtension, string> = { jpg: 'image/jpeg', png: 'image/png', webp: 'image/webp', json: 'application/json' };

/** What a spooled or live payload is: an image frame, or detections JSON (which starts with "{"). */
export function extensionForPayload(payload: Buffer): SpoolExtension | null {
  return extensionForImage(payload) ?? (payload[0] === 0x7b ? 'json' : null);
}

/** Where each kind of payload is posted. */
export const UPLOAD_PATHS: Record<SpoolExtension, string> = {
  jpg: '/api/v1/frames',
  png: '/api/v1/frames',
  webp: '/api/v1/frames',
  json: '/api/v1/detections',
};
