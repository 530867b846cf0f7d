import type { Config } from '../config/config.ts';
import { deriveKey, loadSecretKey } from '../auth/secret-box.ts';

export type KeyPurpose = Parameters<typeof deriveKey>[1];

/**
 * The keys derived from the server's secret key (MASKWATCH_SECRET_KEY, or
 * secret.key in the data dir), read once, on first use: processes that never
 * need one never create the key file.
 */
export function secretKeys(config: Pick<Config, 'dataDir'> & { security: Pick<Config['security'], 'secretKey'> }): (purpose: KeyPurpose) => Promise<Buffer> {
  let master: Promise<Buffer> | null = null;
  return async (purpose) => {
    master ??= loadSecretKey({ configured: config.security.secretKey, dataDir: config.dataDir }).catch((err: unknown) => {
      master = null; // a later call tries again (the data dir mounted late, permissions fixed)
      throw err;
    });
    return deriveKey(await master, purpose);
  };
}
