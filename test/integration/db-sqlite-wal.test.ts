/** Switching a SQLite file to WAL while another process holds the lock: waited out, not a crash at start-up. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { enableWal } from '../../src/db/sqlite-wal.ts';
import { tempDir } from '../helpers/env.ts';

/** Another connection (a thread, so it can let go while this one blocks) holds an exclusive lock for `holdMs`. */
async function holdLock(file: string, holdMs: number): Promise<Worker> {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const Database = require('better-sqlite3');
     const db = new Database(workerData.file);
     db.exec('BEGIN EXCLUSIVE');
     parentPort.postMessage('locked');
     Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
     db.exec('COMMIT');
     db.close();`,
    { eval: true, workerData: { file, holdMs } },
  );
  await once(worker, 'message');
  return worker;
}

test('enableWal retries a busy database until the other connection lets go, and gives up at its deadline', async () => {
  const tmp = await tempDir('maskwatch-wal');
  try {
    const file = path.join(tmp.dir, 'db.sqlite');
    new BetterSqlite3(file).exec('CREATE TABLE t (x)');
    // timeout 0: no busy handler at all, as when SQLite detects a lock-upgrade deadlock.
    const db = new BetterSqlite3(file, { timeout: 0 });
    let holder = await holdLock(file, 2000);
    assert.throws(() => enableWal(db, 100), (err: { code?: string }) => err.code === 'SQLITE_BUSY', 'gives up at its deadline');
    await once(holder, 'exit');
    holder = await holdLock(file, 300);
    assert.throws(() => db.pragma('journal_mode = WAL'), (err: { code?: string }) => err.code === 'SQLITE_BUSY', 'a single try fails while the lock is held');
    enableWal(db, 5000);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    await once(holder, 'exit');
    db.close();
  } finally {
    await tmp.cleanup();
  }
});
