/** Generated passphrases of encrypted evidence packages (src/web/passphrase.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generatePassphrase } from '../../src/web/passphrase.ts';
import { PACKAGE_PASSPHRASE_MIN } from '../../src/contracts/vocabulary.ts';

test('six groups of four letters without look-alikes, long enough for the API, every letter reachable, different each time', () => {
  const made = Array.from({ length: 200 }, () => generatePassphrase((n) => randomBytes(n)));
  for (const p of made) {
    assert.match(p, /^([2-9A-HJ-NP-Z]{4}-){5}[2-9A-HJ-NP-Z]{4}$/);
    assert.ok(p.length >= PACKAGE_PASSPHRASE_MIN);
  }
  assert.equal(new Set(made).size, made.length);
  // 24 letters of 32 each: 120 bits. All 32 letters turn up over 200 passphrases (4,800 letters).
  assert.equal(new Set(made.join('').replaceAll('-', '')).size, 32);
  // Every byte value maps to a letter: the lowest and highest bytes give the alphabet's ends.
  assert.equal(generatePassphrase((n) => new Uint8Array(n)), '2222-2222-2222-2222-2222-2222');
  assert.equal(generatePassphrase((n) => new Uint8Array(n).fill(255)), 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ');
});
