/**
 * The BEGIN IMMEDIATE patch of Prisma's SQLite adapter (src/db/sqlite-immediate.ts):
 * a transaction holds the write lock from its first statement, so another
 * connection cannot commit between its read and its write (which would make the
 * write fail with SQLITE_BUSY), and a changed adapter is refused loudly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { SqlDriverAdapter, SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { AdapterInternalsError, ImmediateTransactionsSqlite } from '../../src/db/sqlite-immediate.ts';
import { tempDir, testLogger } from '../helpers/env.ts';

describe('SQLite transactions begin IMMEDIATE', () => {
  let db: Database;
  let file: string;
  let cleanup: () => Promise<void>;

  before(async () => {
    const dir = await tempDir('sqlite-immediate');
    cleanup = dir.cleanup;
    file = `${dir.dir}/immediate.db`;
    db = await openDatabase(`file:${file}`, { logger: testLogger() });
  });
  after(async () => {
    await db?.close();
    await cleanup?.();
  });

  it('holds the write lock from the first read: another writer is refused until commit', async () => {
    const camera = await db.prisma.camera.create({ data: { name: 'c', latitude: 0, longitude: 0, apiKeyHash: 'h1', apiKeyHint: 'abcd' } });
    const other = new BetterSqlite3(file, { timeout: 0 });
    try {
      let refused: unknown;
      await db.prisma.$transaction(async (tx) => {
        const read = await tx.camera.findUniqueOrThrow({ where: { id: camera.id } });
        try {
          other.prepare('UPDATE "Camera" SET "name" = ? WHERE "id" = ?').run('from another connection', camera.id);
        } catch (err) {
          refused = err;
        }
        await tx.camera.update({ where: { id: camera.id }, data: { name: `${read.name}+tx` } });
      });
      assert.equal((refused as { code?: string } | undefined)?.code, 'SQLITE_BUSY', 'the other connection could not write inside the transaction');
      assert.equal((await db.prisma.camera.findUniqueOrThrow({ where: { id: camera.id } })).name, 'c+tx', 'the transaction committed its read-then-write');
      other.prepare('UPDATE "Camera" SET "name" = ? WHERE "id" = ?').run('after', camera.id);
      assert.equal((await db.prisma.camera.findUniqueOrThrow({ where: { id: camera.id } })).name, 'after', 'the lock is released at commit');
    } finally {
      other.close();
    }
  });

  it('refuses an adapter whose connection is no longer reachable', async () => {
    const inner: SqlDriverAdapterFactory = {
      provider: 'sqlite',
      adapterName: 'fake',
      connect: async () => ({ provider: 'sqlite', adapterName: 'fake' }) as unknown as SqlDriverAdapter,
    };
    await assert.rejects(new ImmediateTransactionsSqlite(inner).connect(), AdapterInternalsError);
  });
});
