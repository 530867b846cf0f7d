import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, passwordProblem, verifyPassword } from '../../src/auth/password.ts';

// Low cost parameters keep the unit test fast; the format and logic are the same.
const FAST = { N: 1 << 10 };

test('a hash verifies its password and no other', async () => {
  const hash = await hashPassword('correct horse battery staple', FAST);
  assert.match(hash, /^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifyPassword('correct horse battery staple', hash), true);
  assert.equal(await verifyPassword('correct horse battery stapl', hash), false);
  assert.equal(await verifyPassword('', hash), false);
});

test('salted: the same password hashes differently each time', async () => {
  const [a, b] = await Promise.all([hashPassword('same password here', FAST), hashPassword('same password here', FAST)]);
  assert.notEqual(a, b);
  assert.equal(await verifyPassword('same password here', b), true);
});

test('default parameters are the strong ones', async () => {
  const hash = await hashPassword('a long enough password');
  assert.match(hash, /^scrypt\$32768\$8\$1\$/);
  assert.equal(await verifyPassword('a long enough password', hash), true);
});

test('malformed stored hashes never verify (and do not throw)', async () => {
  for (const bad of ['', 'plain', 'scrypt$x$8$1$salt$hash', 'bcrypt$1$2$3$4$5', 'scrypt$1024$8$1$c2FsdA$']) {
    assert.equal(await verifyPassword('anything at all', bad), false, bad);
  }
});

test('unicode passwords are normalised (NFKC) before hashing', async () => {
  const hash = await hashPassword('pa\u0301ssword-unicode', FAST); // a + combining acute
  assert.equal(await verifyPassword('p\u00e1ssword-unicode', hash), true); // precomposed á
});

test('password policy: length between 12 and 1024', () => {
  assert.match(passwordProblem('short')!, /at least 12/);
  assert.match(passwordProblem('x'.repeat(1025))!, /at most 1024/);
  assert.match(passwordProblem(' '.repeat(12))!, /only spaces/);
  assert.match(passwordProblem('\t \n'.repeat(5))!, /only spaces/);
  assert.equal(passwordProblem('correct horse battery staple'), null);
  assert.equal(passwordProblem('twelve chars'), null);
});
