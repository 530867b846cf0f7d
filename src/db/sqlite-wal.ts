import type BetterSqlite3 from 'better-sqlite3';

/**
 * Switches a SQLite file to WAL. Processes doing this at once on a fresh file
 * can meet in a lock upgrade (shared → exclusive), and SQLite then answers
 * SQLITE_BUSY at once instead of waiting out the busy timeout: retry, with
 * backoff, until that timeout. Start-up only, hence the blocking wait.
 */
export function enableWal(db: BetterSqlite3.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let delayMs = 5; ; delayMs = Math.min(delayMs * 2, 200)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() + delayMs > deadline) throw err;
      Atomics.wait(pause, 0, 0, delayMs);
    }
  }
}
