import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { publicKeyFingerprint } from '../domain/evidence-package.ts';
import type { KeyPurpose } from './secret-key.ts';

/**
 * The key that signs evidence packages' manifests: Ed25519, derived from the server's secret key, so every
 * instance signs with the same key, no key file needs its own backup, and the public key is the same as long
 * as the secret key is. Changing the secret key changes it (README, "Evidence per alert").
 */
export interface EvidenceSigner {
  keyFingerprint: string;
  publicKeyPem: string;
  sign(data: Uint8Array): Buffer;
}

/** An Ed25519 private key in PKCS#8 DER is this header followed by its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_HEADER = Buffer.from('302e020100300506032b657004220420', 'hex');

export function evidenceSignerFromSeed(seed: Buffer): EvidenceSigner {
  if (seed.length !== 32) throw new Error('an Ed25519 key needs a 32-byte seed');
  const privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_HEADER, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return {
    keyFingerprint: publicKeyFingerprint(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    sign: (data) => sign(null, data, privateKey),
  };
}

/** The evidence signer of this server's secret key, made once, on first use. */
export function evidenceSigner(secretKeys: (purpose: KeyPurpose) => Promise<Buffer>): () => Promise<EvidenceSigner> {
  let signer: Promise<EvidenceSigner> | null = null;
  return () =>
    (signer ??= secretKeys('evidence signing')
      .then(evidenceSignerFromSeed)
      .catch((err: unknown) => {
        signer = null; // a later call tries again, as secretKeys does
        throw err;
      }));
}
