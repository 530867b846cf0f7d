/**
 * A security key in software (WebAuthn, ES256, "none" attestation), for tests over HTTP: it answers
 * registration and sign-in challenges exactly as a browser would pass on a real key's answers, and can
 * be told to misbehave (another origin, a counter that goes back, as a cloned key's would).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

type Cbor = number | string | Uint8Array | Cbor[] | Map<number | string, Cbor> | { [k: string]: Cbor };

/** The few CBOR forms an attestation object and a COSE key need (RFC 8949, definite lengths). */
function cbor(value: Cbor): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest();
const b64u = (b: Buffer) => b.toString('base64url');

const FLAG_USER_PRESENT = 0x01;
const FLAG_ATTESTED_DATA = 0x40;

export interface SoftKeyOptions {
  /** The page's origin, as the browser would report it (default: the registration's https://<rp id>). */
  origin: string;
}

export function createSoftAuthenticator() {
  let credentialId: Buffer | null = null;
  let privateKey: KeyObject | null = null;
  let rpId = '';
  let counter = 0;

  const counterBytes = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };

  return {
    get credentialId(): string | null {
      return credentialId ? b64u(credentialId) : null;
    },
    /** Sets the next signature counter (a clone's is behind the original's). */
    setCounter(n: number) {
      counter = n;
    },

    /** navigator.credentials.create: a new key pair for the options' site. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    create(options: any, { origin }: SoftKeyOptions) {
      const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      privateKey = keys.privateKey;
      credentialId = randomBytes(32);
      rpId = options.rp.id;
      counter = 0;
      const jwk = keys.publicKey.export({ format: 'jwk' });
      const cose = new Map<number, Cbor>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x!, 'base64url')],
        [-3, Buffer.from(jwk.y!, 'base64url')],
      ]);
      const idLength = Buffer.from([credentialId.length >> 8, credentialId.length & 0xff]);
      const authData = Buffer.concat([
        sha256(rpId),
        Buffer.from([FLAG_USER_PRESENT | FLAG_ATTESTED_DATA]),
        counterBytes(counter),
        Buffer.alloc(16), // AAGUID: none
        idLength,
        credentialId,
        cbor(cose),
      ]);
      const clientDataJSON = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false });
      return {
        id: b64u(credentialId),
        rawId: b64u(credentialId),
        type: 'public-key' as const,
        response: {
          clientDataJSON: b64u(Buffer.from(clientDataJSON)),
          attestationObject: b64u(cbor({ fmt: 'none', attStmt: {}, authData })),
          transports: ['usb'],
        },
        clientExtensionResults: {},
      };
    },

    /** navigator.credentials.get: signs the challenge, when the options allow this key. */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    get(options: any, { origin }: SoftKeyOptions) {
      if (!credentialId || !privateKey) throw new Error('soft authenticator: no key registered');
      const allowed = (options.allowCredentials ?? []) as { id: string }[];
      if (!allowed.some((c) => c.id === b64u(credentialId!))) throw new Error('soft authenticator: not one of the allowed keys');
      counter += 1;
      const authData = Buffer.concat([sha256(options.rpId ?? rpId), Buffer.from([FLAG_USER_PRESENT]), counterBytes(counter)]);
      const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: options.challenge, origin, crossOrigin: false }));
      const signature = sign('sha256', Buffer.concat([authData, sha256(clientDataJSON)]), privateKey);
      return {
        id: b64u(credentialId),
        rawId: b64u(credentialId),
        type: 'public-key' as const,
        response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authData), signature: b64u(signature) },
        clientExtensionResults: {},
      };
    },
  };
}

export type SoftAuthenticator = ReturnType<typeof createSoftAuthenticator>;
