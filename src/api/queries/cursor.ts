/**
 * Keyset pagination, newest first: a cursor names the last item of a page by
 * (timestamp, id), and the next page is everything strictly "older" in that
 * order. Opaque base64url so clients do not build cursors themselves; each
 * names its list, so a cursor of one list is refused by another.
 */
import { HttpProblem } from '../problem.ts';

export interface CursorKey {
  at: Date;
  id: string;
}

/** The paginated lists. */
export type CursorList = 'alerts' | 'violations' | 'webhook-deliveries' | 'audit';

export class CursorError extends Error {}

export function encodeCursor(list: CursorList, key: CursorKey): string {
  return Buffer.from(JSON.stringify([list, key.at.toISOString(), key.id])).toString('base64url');
}

export function decodeCursor(list: CursorList, cursor: string): CursorKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    // refused below
  }
  if (Array.isArray(parsed) && parsed.length === 3 && parsed.every((p) => typeof p === 'string')) {
    const [of, iso, id] = parsed as [string, string, string];
    if (of !== list) throw new CursorError(`this cursor pages ${of}, not ${list}; pass back the nextCursor of a previous page of this list`);
    const at = new Date(iso);
    if (!Number.isNaN(at.getTime())) return { at, id };
  }
  throw new CursorError('cursor is malformed; pass back the nextCursor of a previous page');
}

/** The key a `cursor` query parameter names (null without one), or a 400 problem. */
export function cursorOrProblem(list: CursorList, cursor: string | undefined): CursorKey | null {
  if (!cursor) return null;
  try {
    return decodeCursor(list, cursor);
  } catch (err) {
    if (err instanceof CursorError) throw new HttpProblem(400, err.message, 'bad-cursor');
    throw err;
  }
}

/** Splits a limit+1 result into a page and the cursor of its last item. */
export function page<T extends { id: string }>(list: CursorList, rows: T[], limit: number, at: (row: T) => Date) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(list, { at: at(last), id: last.id }) : null };
}
