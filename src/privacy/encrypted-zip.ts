/**
 * One file inside a ZIP encrypted with WinZip's AES-256 (AE-2): what 7-Zip, WinZip, WinRAR, Keka and The
 * Unarchiver open with a passphrase. An evidence package leaves the agency on a stick or by mail: wrapped
 * in this, a lost copy shows nothing without the passphrase, and the package inside is unchanged (its
 * signature and SHA256SUMS are checked as ever once it is taken out).
 *
 * The format, as WinZip specifies it: a key of 66 bytes from PBKDF2-HMAC-SHA1 (1,000 rounds) over a 16-byte
 * random salt — the AES-256 key, an HMAC-SHA1 key and a 2-byte check of the passphrase; AES in counter mode
 * with a little-endian counter starting at 1; the first 10 bytes of the HMAC of the ciphertext after it. AE-2
 * leaves the CRC out (0): the HMAC authenticates instead. The key derivation is weak by today's measure and
 * fixed by the format, so the passphrase must carry the strength (PACKAGE_PASSPHRASE_MIN characters at least;
 * the dashboard generates 120 random bits).
 *
 * Written as a stream (the file is never whole in memory), one entry, stored (a ZIP of JPEGs does not
 * compress), no ZIP64: up to 4 GiB.
 */
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Writable } from 'node:stream';
import yauzl from 'yauzl';

const SALT_BYTES = 16; // AES-256
const CHECK_BYTES = 2;
const MAC_BYTES = 10;
const ROUNDS = 1000;
const METHOD_AES = 99;
const AES_EXTRA_ID = 0x9901;
const FLAGS = 0x0001 | 0x0008 | 0x0800; // encrypted, sizes in the data descriptor, UTF-8 name
const VERSION = 51; // 5.1: AES
/** The classic ZIP's 32-bit sizes, less the salt, check and MAC around the data. */
const MAX_PLAIN_BYTES = 0xffff_ffff - SALT_BYTES - CHECK_BYTES - MAC_BYTES;

function keys(passphrase: string, salt: Buffer) {
  const k = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, ROUNDS, 32 + 32 + CHECK_BYTES, 'sha1');
  return { aes: k.subarray(0, 32), mac: k.subarray(32, 64), check: k.subarray(64) };
}

/** AES-256 in counter mode with WinZip's little-endian counter (Node's aes-256-ctr counts big-endian). */
function counterMode(key: Buffer): (data: Buffer) => Buffer {
  const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  let counter = 1;
  let spare = Buffer.alloc(0); // keystream left over from the last block
  return (data) => {
    const out = Buffer.allocUnsafe(data.length);
    const fromSpare = Math.min(spare.length, data.length);
    for (let i = 0; i < fromSpare; i++) out[i] = data[i]! ^ spare[i]!;
    spare = spare.subarray(fromSpare);
    const rest = data.length - fromSpare;
    if (rest > 0) {
      const blocks = Buffer.alloc(Math.ceil(rest / 16) * 16);
      for (let off = 0; off < blocks.length; off += 16, counter++) {
        blocks.writeUInt32LE(counter % 0x1_0000_0000, off);
        blocks.writeUInt32LE(Math.floor(counter / 0x1_0000_0000), off + 4);
      }
      const stream = ecb.update(blocks);
      for (let j = 0; j < rest; j++) out[fromSpare + j] = data[fromSpare + j]! ^ stream[j]!;
      spare = stream.subarray(rest);
    }
    return out;
  };
}

/** The 0x9901 extra field: AE-2, vendor "AE", AES-256, the data stored. */
function aesExtra(): Buffer {
  const b = Buffer.alloc(11);
  b.writeUInt16LE(AES_EXTRA_ID, 0);
  b.writeUInt16LE(7, 2);
  b.writeUInt16LE(2, 4);
  b.write('AE', 6, 'latin1');
  b.writeUInt8(3, 8);
  b.writeUInt16LE(0, 9);
  return b;
}

/** MS-DOS time and date, in local time as ZIP tools read them. */
function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: (Math.max(0, d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/** `source` as the one file `name` of an AES-256-encrypted ZIP, streamed. Throws past 4 GiB. */
export async function* encryptedZip(source: AsyncIterable<Uint8Array>, opts: { name: string; passphrase: string; mtime: Date }): AsyncGenerator<Buffer> {
  const salt = randomBytes(SALT_BYTES);
  const k = keys(opts.passphrase, salt);
  const name = Buffer.from(opts.name, 'utf8');
  const extra = aesExtra();
  const { time, date } = dosTime(opts.mtime);
  /** Version needed, flags, method, time and date: the same run in the local and the central header. */
  const entryFields = (b: Buffer, at: number) => [VERSION, FLAGS, METHOD_AES, time, date].forEach((v, i) => b.writeUInt16LE(v, at + 2 * i));

  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  entryFields(local, 4);
  // CRC (0 in AE-2) and both sizes (in the data descriptor) stay 0.
  local.writeUInt16LE(name.length, 26);
  local.writeUInt16LE(extra.length, 28);
  yield Buffer.concat([local, name, extra, salt, k.check]);

  const encrypt = counterMode(k.aes);
  const mac = createHmac('sha1', k.mac);
  let plain = 0;
  for await (const chunk of source) {
    plain += chunk.length;
    if (plain > MAX_PLAIN_BYTES) throw new Error('the package is larger than an encrypted ZIP holds (4 GiB)');
    const c = encrypt(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    mac.update(c);
    yield c;
  }
  const stored = SALT_BYTES + CHECK_BYTES + plain + MAC_BYTES;
  const descriptor = Buffer.alloc(16);
  descriptor.writeUInt32LE(0x08074b50, 0);
  descriptor.writeUInt32LE(stored, 8);
  descriptor.writeUInt32LE(plain, 12);
  yield Buffer.concat([mac.digest().subarray(0, MAC_BYTES), descriptor]);

  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE((3 << 8) | VERSION, 4); // made by: Unix
  entryFields(central, 6);
  central.writeUInt32LE(stored, 20);
  central.writeUInt32LE(plain, 24);
  central.writeUInt16LE(name.length, 28);
  central.writeUInt16LE(extra.length, 30);
  central.writeUInt32LE((0o100600 << 16) >>> 0, 38); // a regular file, owner-only
  const centralOffset = local.length + name.length + extra.length + stored + descriptor.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length + extra.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  yield Buffer.concat([central, name, extra, end]);
}

export class EncryptedZipError extends Error {
  constructor(
    message: string,
    readonly code: 'not-encrypted' | 'wrong-passphrase' | 'altered' | 'unsupported',
  ) {
    super(message);
    this.name = 'EncryptedZipError';
  }
}

/** Whether `file` is a ZIP of one AES-encrypted file (what encryptedZip writes); false for any other ZIP. */
export async function isEncryptedZip(file: string): Promise<boolean> {
  const zip = await yauzl.openPromise(file, { autoClose: false });
  try {
    for await (const entry of zip.eachEntry()) return entry.isEncrypted() && entry.compressionMethod === METHOD_AES;
    return false;
  } finally {
    zip.close();
  }
}

/**
 * Writes the one file of an AES-256-encrypted ZIP, decrypted, to `out`, and answers its name. The ciphertext's
 * HMAC is checked as it streams: a wrong passphrase throws before anything is written, an altered file after
 * (`out` then holds bytes that must not be used).
 */
export async function decryptZip(file: string, passphrase: string, out: Writable): Promise<{ name: string; bytes: number }> {
  const zip = await yauzl.openPromise(file, { autoClose: false });
  try {
    let found: yauzl.Entry | null = null;
    for await (const entry of zip.eachEntry()) {
      if (found) throw new EncryptedZipError('an encrypted package holds one file; this ZIP holds more', 'unsupported');
      found = entry;
    }
    if (!found || !found.isEncrypted() || found.compressionMethod !== METHOD_AES) throw new EncryptedZipError('not an AES-encrypted ZIP', 'not-encrypted');
    const aes = found.extraFields.find((f) => f.id === AES_EXTRA_ID)?.data;
    if (!aes || aes.length < 7 || aes.readUInt8(4) !== 3 || aes.readUInt16LE(5) !== 0) {
      throw new EncryptedZipError('only AES-256 over stored data is read (what MaskWatch writes)', 'unsupported');
    }
    const raw = await zip.openReadStreamPromise(found, { decodeFileData: false });
    let head = Buffer.alloc(0);
    let tail = Buffer.alloc(0); // the last MAC_BYTES seen: the MAC, once the stream ends
    let k: ReturnType<typeof keys> | null = null;
    let decrypt: ((d: Buffer) => Buffer) | null = null;
    let mac: ReturnType<typeof createHmac> | null = null;
    let bytes = 0;
    const write = (d: Buffer) => new Promise<void>((resolve, reject) => out.write(d, (err) => (err ? reject(err) : resolve())));
    for await (const chunk of raw as AsyncIterable<Buffer>) {
      let data = chunk;
      if (!k) {
        head = Buffer.concat([head, data]);
        if (head.length < SALT_BYTES + CHECK_BYTES) continue;
        k = keys(passphrase, head.subarray(0, SALT_BYTES));
        if (!timingSafeEqual(k.check, head.subarray(SALT_BYTES, SALT_BYTES + CHECK_BYTES))) throw new EncryptedZipError('wrong passphrase', 'wrong-passphrase');
        decrypt = counterMode(k.aes);
        mac = createHmac('sha1', k.mac);
        data = head.subarray(SALT_BYTES + CHECK_BYTES);
      }
      const all = Buffer.concat([tail, data]);
      const body = all.subarray(0, Math.max(0, all.length - MAC_BYTES));
      tail = Buffer.from(all.subarray(body.length));
      if (body.length) {
        mac!.update(body);
        bytes += body.length;
        await write(decrypt!(body));
      }
    }
    if (!mac || tail.length !== MAC_BYTES || !timingSafeEqual(mac.digest().subarray(0, MAC_BYTES), tail)) {
      throw new EncryptedZipError('the encrypted file does not match its authentication code: altered, cut short, or (rarely) a wrong passphrase', 'altered');
    }
    return { name: found.fileName, bytes };
  } finally {
    zip.close();
  }
}
