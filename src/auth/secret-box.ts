import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Seals small secrets that must be read back (TOTP shared secrets cannot be
 * hashed: the server computes codes from them) with AES-256-GCM under a key
 * kept outside the database. `context` (the owner's id) is authenticated
 * data: a sealed value copied onto another row does not open.
 */
export interface SecretBox {
  seal(plain: string, context: string): string;
  /** Throws when the value was not sealed with this key and context. */
  open(sealed: string, context: string): string;
}

const VERSION = 'v1';

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('a secret box needs a 32-byte key');
  return {
    seal(plain, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(context));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), body].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join(':');
    },
    open(sealed, context) {
      const [version, iv, tag, body] = sealed.split(':');
      if (version !== VERSION || !iv || !tag || body === undefined) throw new Error('not a sealed value');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url')).setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

export const SECRET_KEY_FILE = 'secret.key';

/**
 * The server's secret key, which the database never holds: MASKWATCH_SECRET_KEY
 * when set (several instances must share it), else `<dataDir>/secret.key`,
 * created owner-only on first use. Any string of ≥ 32 characters; it is hashed
 * to 32 bytes, from which each use derives its own key (deriveKey).
 */
export async function loadSecretKey(opts: { configured: string | null; dataDir: string }): Promise<Buffer> {
  if (opts.configured) return createHash('sha256').update(opts.configured).digest();
  const file = path.join(opts.dataDir, SECRET_KEY_FILE);
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
    text = randomBytes(32).toString('base64url');
    // Written aside, then linked into place: a process starting at the same moment sees no file or a whole one.
    const draft = `${file}.${randomBytes(6).toString('hex')}`;
    await writeFile(draft, text + '\n', { mode: 0o600, flag: 'wx' });
    try {
      await link(draft, file);
    } catch (raceErr) {
      // Another process created it first: use theirs.
      if ((raceErr as NodeJS.ErrnoException).code !== 'EEXIST') throw raceErr;
      text = (await readFile(file, 'utf8')).trim();
    } finally {
      await unlink(draft);
    }
  }
  if (text.length < 32) throw new Error(`${file} holds fewer than 32 characters`);
  return createHash('sha256').update(text).digest();
}

/** A 32-byte key for one use of the secret key (HKDF-SHA256), so no two uses share a key. */
export function deriveKey(secretKey: Buffer, purpose: 'totp secrets' | 'audit seals' | 'sign-on state' | 'evidence signing'): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), `maskwatch ${purpose}`, 32));
}
