import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, readdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { MASKWATCH_BIN } from '../../src/system/worker-pool.ts';
import { migrate, migrationsDirFor } from '../../src/db/migrator.ts';
import { deleteRedisPrefix, REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';
import { testDatabase, testProviders, type TestDatabase } from '../helpers/db.ts';
import { freePort } from '../helpers/redis-server.ts';
import { call } from '../helpers/api.ts';
import { withTimeout } from '../helpers/wait.ts';
import { runCli } from '../helpers/cli.ts';

const cli = (args: string[], env: Record<string, string>, stdin?: string, timeoutMs?: number) => runCli(args, { env, stdin, timeoutMs });

for (const provider of testProviders()) {
  describe(`maskwatch users (${provider})`, () => {
    let tmp: { dir: string; cleanup(): Promise<void> };
    let db: TestDatabase;
    let env: Record<string, string>;
    before(async () => {
      tmp = await tempDir('maskwatch-cli');
      db = testDatabase(provider, tmp.dir);
      env = { MASKWATCH_DATA_DIR: tmp.dir, DATABASE_URL: db.url, LOG_LEVEL: 'warn' };
    });
    after(async () => {
      await db.cleanup();
      await tmp.cleanup();
    });

    test('users add with --password-stdin creates a user who can log in; list shows it', async () => {
      const added = await cli(['users', 'add', '--username', 'officer7', '--role', 'OFFICER', '--unit', 'ALPHA-7', '--password-stdin'], env, 'a very secret passphrase\n');
      assert.equal(added.code, 0, added.stderr);
      assert.match(added.stdout, /created user officer7 \(OFFICER, unit ALPHA-7\)/);
      const list = await cli(['users', 'list'], env);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /^officer7\tOFFICER\tALPHA-7$/m);

      // The same database served by an API: the password (without the newline) logs in.
      const port = await freePort();
      const prefix = uniquePrefix('cli');
      const api = spawn(process.execPath, [MASKWATCH_BIN, 'api', '--port', String(port)], {
        env: { ...process.env, ...env, REDIS_URL, MASKWATCH_QUEUE_PREFIX: prefix },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      try {
        const url = await withTimeout(new Promise<string>((resolve, reject) => {
          api.once('exit', (code) => reject(new Error(`api exited ${code}`)));
          // The start-up summary for people is on stderr (stdout is JSON log lines).
          createInterface({ input: api.stderr! }).on('line', (line) => {
            const m = /API \+ dashboard\s+(http:\/\/\S+?)\/?$/.exec(line);
            if (m) resolve(m[1]!);
          });
        }), 'the API banner with its URL', 120_000);
        const login = await call(url, 'POST', '/api/v1/auth/login', { json: { username: 'officer7', password: 'a very secret passphrase' } });
        assert.equal(login.status, 200);
        assert.equal(login.body.user.role, 'OFFICER');
        assert.ok(login.body.user.unitId);
        assert.equal((await call(url, 'GET', '/readyz')).status, 200);
      } finally {
        const exited = new Promise<number | null>((resolve) => api.once('exit', (code) => resolve(code)));
        api.kill('SIGTERM');
        assert.equal(await withTimeout(exited, 'the API to exit after SIGTERM'), 0, 'graceful shutdown exits 0');
        await deleteRedisPrefix(REDIS_URL, prefix);
      }
    });

    test('bad input: non-zero exit and a message', async () => {
      const cases: [string[], string, RegExp][] = [
        [['users', 'add', '--username', 'xuser1', '--role', 'KING', '--password-stdin'], 'long enough password', /--role must be/],
        [['users', 'add', '--role', 'ADMIN', '--password-stdin'], 'long enough password', /--username is required/],
        [['users', 'add', '--username', 'officer1', '--role', 'OFFICER', '--password-stdin'], 'long enough password', /needs --unit/],
        [['users', 'add', '--username', 'admin1', '--role', 'ADMIN', '--password-stdin'], 'short', /at least 12/],
        [['users', 'add', '--username', 'admin1', '--role', 'ADMIN'], '', /--password-stdin/],
        [['users', 'frobnicate'], '', /unknown subcommand/],
      ];
      for (const [args, stdin, message] of cases) {
        const r = await cli(args, env, stdin);
        assert.equal(r.code, 1, args.join(' '));
        assert.match(r.stderr, message);
      }
      const twice = ['users', 'add', '--username', 'dup', '--role', 'ADMIN', '--password-stdin'];
      assert.equal((await cli(twice, env, 'long enough password')).code, 0);
      const again = await cli(twice, env, 'long enough password');
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already exists/);
      // A look-alike name differing only in case is refused too, naming the existing account.
      const lookAlike = await cli(['users', 'add', '--username', 'DUP', '--role', 'DISPATCHER', '--password-stdin'], env, 'long enough password');
      assert.equal(lookAlike.code, 1);
      assert.match(lookAlike.stderr, /user "dup" already exists \(names differing only in case are refused\)/);
      const blank = await cli(['users', 'add', '--username', 'blank', '--role', 'DISPATCHER', '--password-stdin'], env, ' '.repeat(14));
      assert.equal(blank.code, 1);
      assert.match(blank.stderr, /only spaces/);
    });
  });
}

describe('maskwatch api / start / worker without Redis', () => {
  test('exits 1 with a message saying how to start Redis', async () => {
    const tmp = await tempDir('maskwatch-cli');
    try {
      const port = await freePort();
      const r = await cli(['api'], { MASKWATCH_DATA_DIR: tmp.dir, REDIS_URL: `redis://127.0.0.1:${port}` });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Redis is not reachable/);
      assert.match(r.stderr, /redis-server --daemonize yes .*--appendonly yes/);
      // docs/operations.md: "appendonly no … not acceptable" — the hint must not suggest it.
      assert.doesNotMatch(r.stderr, /appendonly no/);
      // A standalone worker gets the same start-up check (it used to wait forever, logging an error twice a second).
      const worker = await cli(['worker'], { MASKWATCH_DATA_DIR: tmp.dir, REDIS_URL: `redis://127.0.0.1:${port}` }, undefined, 60_000);
      assert.equal(worker.code, 1, worker.stderr);
      assert.match(worker.stderr, /^maskwatch: Redis is not reachable at redis:\/\/127\.0\.0\.1:\d+ \(connect ECONNREFUSED/);
      // Sentinels that do not answer: the same one-line answer, not a hang (ioredis would retry them forever).
      const started = Date.now();
      const sentinel = await cli(['api'], { MASKWATCH_DATA_DIR: tmp.dir, REDIS_URL: `redis+sentinel://127.0.0.1:${port},127.0.0.1:${port}/mymaster` }, undefined, 30_000);
      assert.equal(sentinel.code, 1, sentinel.stderr);
      assert.match(sentinel.stderr, /^maskwatch: Redis is not reachable at redis\+sentinel:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/mymaster \(no sentinel answered/);
      assert.ok(Date.now() - started < 30_000);
      // A database number that is not one: a configuration error, not a ReplyError stack trace (SELECT NaN).
      const notANumber = await cli(['api'], { MASKWATCH_DATA_DIR: tmp.dir, REDIS_URL: 'redis://127.0.0.1:6379/abc' }, undefined, 60_000);
      assert.equal(notANumber.code, 1, notANumber.stderr);
      assert.match(notANumber.stderr, /^maskwatch: invalid configuration: REDIS_URL: database must be a number/);
      assert.doesNotMatch(notANumber.stderr, /ReplyError|\n\s+at /);
      // A number the server refuses: start-up stops instead of running in database 0.
      const refusedUrl = new URL(REDIS_URL);
      refusedUrl.pathname = '/9999';
      const refused = await cli(['api'], { MASKWATCH_DATA_DIR: tmp.dir, REDIS_URL: refusedUrl.href }, undefined, 60_000);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /^maskwatch: Redis at redis:\/\/\S+\/9999 refuses database 9999 \(ERR DB index is out of range\)/);
      assert.doesNotMatch(refused.stdout, /API instance running/);
      const bad = await cli(['start'], { MASKWATCH_DATA_DIR: tmp.dir, PORT: 'eighty' });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /PORT/);
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('maskwatch api / worker / users with PostgreSQL unreachable', () => {
  test('exit 1 saying it is the database, with its URL and the password masked', async () => {
    const tmp = await tempDir('maskwatch-cli');
    try {
      const port = await freePort();
      const url = `postgresql://maskwatch:S3cretPass@127.0.0.1:${port}/maskwatch`;
      for (const args of [['api'], ['worker'], ['users', 'list']]) {
        const r = await cli(args, { MASKWATCH_DATA_DIR: tmp.dir, DATABASE_URL: url, MASKWATCH_QUEUE_PREFIX: uniquePrefix('nodb') });
        assert.equal(r.code, 1, args.join(' '));
        assert.match(
          r.stderr,
          new RegExp(`^maskwatch: cannot connect to the database at postgresql://maskwatch:\\*\\*\\*@127\\.0\\.0\\.1:${port}/maskwatch: connect ECONNREFUSED`, 'm'),
          r.stderr,
        );
        assert.doesNotMatch(r.stderr, /S3cretPass/);
      }
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('maskwatch users on an older schema', () => {
  test('applies the pending migrations and says which', async () => {
    const tmp = await tempDir('maskwatch-cli');
    try {
      // A database as an older release left it: every migration but the last two.
      const all = (await readdir(migrationsDirFor('sqlite'), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
      const older = path.join(tmp.dir, 'older-migrations');
      for (const name of all.slice(0, -2)) await cp(path.join(migrationsDirFor('sqlite'), name), path.join(older, name), { recursive: true });
      const url = `file:${path.join(tmp.dir, 'old.db')}`;
      await migrate(url, { migrationsDir: older });

      const env = { MASKWATCH_DATA_DIR: tmp.dir, DATABASE_URL: url };
      const listed = await cli(['users', 'list'], env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.equal(listed.stderr, `maskwatch: applied database migrations: ${all.slice(-2).join(', ')}\n`);
      const again = await cli(['users', 'list'], env);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stderr, '', 'nothing to say once the schema is current');
    } finally {
      await tmp.cleanup();
    }
  });
});
