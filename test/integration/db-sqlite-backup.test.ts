/**
 * The SQLite backup docs/operations.md gives ("Backups and restore"): an online copy by SQLite's
 * backup API (what `sqlite3 … ".backup FILE"` uses) or `VACUUM INTO`, while the live database is
 * open in WAL mode with its latest commit still in the -wal file. A plain copy of the .db file would
 * miss that commit; both copies have it, pass integrity_check and open as a MaskWatch database.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from '../../src/db/client.ts';
import { tempDir } from '../helpers/env.ts';

test('SQLite in WAL mode: .backup and VACUUM INTO copy the latest commit online; a file copy does not', async () => {
  const tmp = await tempDir('maskwatch-backup');
  const live = path.join(tmp.dir, 'maskwatch.db');
  const db = await openDatabase(`file:${live}`);
  try {
    await db.prisma.user.create({ data: { username: 'before-backup', passwordHash: 'x', role: 'ADMIN' } });
    assert.ok(existsSync(`${live}-wal`) && statSync(`${live}-wal`).size > 0, 'the commit is in the WAL');

    const cli = new BetterSqlite3(live, { readonly: true });
    await cli.backup(path.join(tmp.dir, 'dot-backup.db'));
    cli.close();
    const rw = new BetterSqlite3(live);
    rw.prepare('VACUUM INTO ?').run(path.join(tmp.dir, 'vacuum-into.db'));
    rw.close();
    copyFileSync(live, path.join(tmp.dir, 'cp.db'));

    for (const name of ['dot-backup.db', 'vacuum-into.db']) {
      const copy = new BetterSqlite3(path.join(tmp.dir, name), { readonly: true });
      assert.equal(copy.pragma('integrity_check', { simple: true }), 'ok', name);
      assert.equal((copy.prepare('SELECT count(*) AS n FROM "User" WHERE username = ?').get('before-backup') as { n: number }).n, 1, name);
      assert.ok((copy.prepare('SELECT count(*) AS n FROM _prisma_migrations').get() as { n: number }).n > 0, name);
      copy.close();
      const restored = await openDatabase(`file:${path.join(tmp.dir, name)}`);
      assert.equal(restored.appliedMigrations.length, 0, `${name}: the schema is current`);
      assert.equal((await restored.prisma.user.findMany()).length, 1);
      await restored.close();
    }
    const torn = new BetterSqlite3(path.join(tmp.dir, 'cp.db'), { readonly: true });
    const hasTable = torn.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'User'`).get() as { n: number };
    const users = hasTable.n ? (torn.prepare('SELECT count(*) AS n FROM "User"').get() as { n: number }).n : 0;
    torn.close();
    assert.equal(users, 0, 'a plain copy of the .db file misses what is still in the WAL');
  } finally {
    await db.close();
    await tmp.cleanup();
  }
});
