/** The AES-256 ZIP around an evidence package (src/privacy/encrypted-zip.ts), read back here and by 7-Zip. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { decryptZip, encryptedZip, isEncryptedZip } from '../../src/privacy/encrypted-zip.ts';

const PASSPHRASE = 'KQ7T-M2XD-9HFA-WR4C-ZN6P-B8EY';

async function write(file: string, data: Buffer, chunk: number): Promise<void> {
  async function* chunks() {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  }
  const parts: Buffer[] = [];
  for await (const b of encryptedZip(chunks(), { name: 'maskwatch-case-DP-1.zip', passphrase: PASSPHRASE, mtime: new Date('2026-12-07T10:00:00') })) parts.push(b);
  writeFileSync(file, Buffer.concat(parts));
}

async function read(file: string, passphrase: string): Promise<{ name: string; data: Buffer }> {
  const parts: Buffer[] = [];
  const out = new Writable({ write: (c, _e, done) => (parts.push(c as Buffer), done()) });
  const { name } = await decryptZip(file, passphrase, out);
  return { name, data: Buffer.concat(parts) };
}

test('round trip at sizes around the AES block and across chunk boundaries; the name and bytes come back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-aeszip-'));
  try {
    for (const [size, chunk] of [[0, 1], [1, 1], [15, 4], [16, 16], [17, 5], [70_001, 4096], [70_001, 7]] as const) {
      const data = randomBytes(size);
      const file = join(dir, `p${size}-${chunk}.zip`);
      await write(file, data, chunk);
      assert.equal(await isEncryptedZip(file), true);
      const back = await read(file, PASSPHRASE);
      assert.equal(back.name, 'maskwatch-case-DP-1.zip');
      assert.ok(back.data.equals(data), `${size} bytes in chunks of ${chunk}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('7-Zip opens it with the passphrase, and refuses a wrong one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-aeszip-'));
  try {
    const data = randomBytes(200_000);
    const file = join(dir, 'case.zip');
    await write(file, data, 65_536);
    // `7z t` checks the entry's authentication code; `x -so` writes the plain file to stdout.
    assert.match(execFileSync('7z', ['t', `-p${PASSPHRASE}`, file], { encoding: 'utf8' }), /Everything is Ok/);
    assert.match(execFileSync('7z', ['l', '-slt', file], { encoding: 'utf8' }), /Method = AES-256/);
    const out = execFileSync('7z', ['x', '-so', `-p${PASSPHRASE}`, file], { maxBuffer: 1 << 24 });
    assert.ok(out.equals(data), '7-Zip decrypts the same bytes');
    assert.throws(() => execFileSync('7z', ['t', '-pwrong passphrase of mine', file], { stdio: 'pipe' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wrong passphrase, an altered byte, a cut file and a plain ZIP are each refused by name', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-aeszip-'));
  try {
    const file = join(dir, 'case.zip');
    await write(file, randomBytes(5000), 1000);
    await assert.rejects(read(file, 'not the passphrase at all'), (e: Error & { code?: string }) => e.code === 'wrong-passphrase' || e.code === 'altered');
    const bytes = readFileSync(file);
    const altered = Buffer.from(bytes);
    altered[30 + 'maskwatch-case-DP-1.zip'.length + 11 + 18 + 2500]! ^= 1; // a byte of the ciphertext
    writeFileSync(join(dir, 'altered.zip'), altered);
    const sink = new PassThrough();
    sink.resume();
    await assert.rejects(decryptZip(join(dir, 'altered.zip'), PASSPHRASE, sink), (e: Error & { code?: string }) => e.code === 'altered');
    // A plain (unencrypted) ZIP: 7-Zip makes one.
    writeFileSync(join(dir, 'a.txt'), 'x');
    execFileSync('7z', ['a', '-tzip', join(dir, 'plain.zip'), join(dir, 'a.txt')], { stdio: 'pipe' });
    assert.equal(await isEncryptedZip(join(dir, 'plain.zip')), false);
    await assert.rejects(decryptZip(join(dir, 'plain.zip'), PASSPHRASE, sink), (e: Error & { code?: string }) => e.code === 'not-encrypted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
