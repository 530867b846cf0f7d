import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { base32Decode, base32Encode, matchTotp, newTotpSecret, otpauthUri, totpCode, totpStep } from '../../src/auth/totp.ts';
import { createSecretBox, deriveKey, loadSecretKey } from '../../src/auth/secret-box.ts';
import { newRecoveryCodes, normalizeRecoveryCode, recoveryCodeHash } from '../../src/auth/recovery-codes.ts';

// RFC 6238 appendix B, SHA-1, secret "12345678901234567890"; apps show the last 6 of the 8 digits.
const RFC_SECRET = base32Encode(Buffer.from('12345678901234567890'));
const RFC_VECTORS: [number, string][] = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

test('TOTP codes match RFC 6238 test vectors (SHA-1, 30 s steps, 6 digits)', () => {
  for (const [seconds, eight] of RFC_VECTORS) {
    assert.equal(totpCode(RFC_SECRET, totpStep(new Date(seconds * 1000))), eight.slice(2), `T = ${seconds}`);
  }
});

test('base32 round-trips and reads what people type (lower case, spaces)', () => {
  const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255, 7]);
  assert.deepEqual(base32Decode(base32Encode(bytes)), bytes);
  assert.equal(base32Encode(Buffer.from('foobar')), 'MZXW6YTBOI');
  assert.deepEqual(base32Decode('mzxw 6ytb oi'), Buffer.from('foobar'));
  assert.throws(() => base32Decode('MZ1W'), /not base32/);
  assert.match(newTotpSecret(), /^[A-Z2-7]{32}$/);
  assert.notEqual(newTotpSecret(), newTotpSecret());
});

test('a code is accepted one step either side of now, and names its step', () => {
  const secret = newTotpSecret();
  const at = new Date(1_800_000_015_000);
  const now = totpStep(at);
  for (const offset of [-1, 0, 1]) assert.equal(matchTotp(secret, totpCode(secret, now + offset), at), now + offset);
  for (const offset of [-3, -2, 2, 3]) assert.equal(matchTotp(secret, totpCode(secret, now + offset), at), null);
  assert.equal(matchTotp(secret, '12345', at), null);
  assert.equal(matchTotp(secret, 'abcdef', at), null);
});

test('the otpauth URI is what authenticator apps read (Key Uri Format)', () => {
  const uri = new URL(otpauthUri({ issuer: 'MaskWatch', account: 'disp.1', secret: 'JBSWY3DPEHPK3PXP' }));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), '/MaskWatch:disp.1');
  assert.deepEqual(Object.fromEntries(uri.searchParams), { secret: 'JBSWY3DPEHPK3PXP', issuer: 'MaskWatch', algorithm: 'SHA1', digits: '6', period: '30' });
});

test('sealed secrets open only with the same key and the same owner', () => {
  const box = createSecretBox(Buffer.alloc(32, 7));
  const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
  assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
  assert.notEqual(box.seal('JBSWY3DPEHPK3PXP', 'user-1'), sealed, 'a fresh IV each time');
  assert.equal(box.open(sealed, 'user-1'), 'JBSWY3DPEHPK3PXP');
  assert.throws(() => box.open(sealed, 'user-2'), 'copied onto another account, it does not open');
  assert.throws(() => createSecretBox(Buffer.alloc(32, 8)).open(sealed, 'user-1'), 'another key does not open it');
  assert.throws(() => box.open('v1:abc', 'user-1'), /not a sealed value/);
});

test('the secret key: the configured one, else a key file made owner-only once and reused; one derived key per use', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'secret-key-'));
  try {
    const configured = await loadSecretKey({ configured: 'x'.repeat(40), dataDir: dir });
    assert.equal(configured.length, 32);
    const dataDir = path.join(dir, 'data');
    const first = await loadSecretKey({ configured: null, dataDir });
    const file = path.join(dataDir, 'secret.key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.ok((await readFile(file, 'utf8')).trim().length >= 32);
    assert.deepEqual(await loadSecretKey({ configured: null, dataDir }), first, 'the same key at the next start');
    const [a, b] = await Promise.all([loadSecretKey({ configured: null, dataDir: path.join(dir, 'race') }), loadSecretKey({ configured: null, dataDir: path.join(dir, 'race') })]);
    assert.deepEqual(a, b, 'two processes starting at once agree on one key');
    assert.notDeepEqual(deriveKey(first, 'totp secrets'), deriveKey(first, 'audit seals'));
    assert.equal(deriveKey(first, 'audit seals').length, 32);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('recovery codes: ten different abcde-fghij codes, read as typed, hashed per user', () => {
  const codes = newRecoveryCodes();
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const c of codes) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
  assert.equal(normalizeRecoveryCode(' ABCDE-fghij '), 'abcdefghij');
  assert.equal(normalizeRecoveryCode('abcde fghij'), 'abcdefghij');
  assert.equal(normalizeRecoveryCode('123456'), null, 'an app code is not a recovery code');
  assert.equal(normalizeRecoveryCode('abcde-fghi1'), null);
  assert.notEqual(recoveryCodeHash('user-1', 'abcdefghij'), recoveryCodeHash('user-2', 'abcdefghij'), 'bound to the user');
  assert.match(recoveryCodeHash('user-1', 'abcdefghij'), /^[0-9a-f]{64}$/);
});
