/**
 * Keyset pagination, newest first: a cursor names the last item of a page by
 * (timestamp, id), and the next page is everything strictly "older" in that
 * order. Opaque base64url so clients do not build cursors themselves.
 */
export interface CursorKey {
  at: Date;
  id: string;
}

export class CursorError extends Error {}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify([key.at.toISOString(), key.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      const at = new Date(parsed[0]);
      if (!Number.isNaN(at.getTime())) return { at, id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw new CursorError('cursor is malformed; pass back the nextCursor of a previous page');
}

/** Splits a limit+1 result into a page and the cursor of its last item. */
export function page<T extends { id: string }>(rows: T[], limit: number, at: (row: T) => Date) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeCursor({ at: at(last), id: last.id }) : null };
}
