/**
 * Security keys (WebAuthn / FIDO2) as a second factor: the two ceremonies, registration and
 * authentication, over @simplewebauthn/server. A key signs a one-use challenge together with the
 * site's name and origin, so a look-alike sign-in page gets nothing it could replay here.
 *
 * Challenges live in a store shared by every API instance (Redis), each taken once; nothing of a
 * ceremony is kept in process memory.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type AuthenticatorTransportFuture,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { SecurityKeyRow } from '../db/repositories/security-keys.ts';

export type { AuthenticationResponseJSON, RegistrationResponseJSON, PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON };

/** The site as browsers see it: keys are bound to `id` (the host name) and answers to `origin`. */
export interface RelyingParty {
  id: string;
  origin: string;
}

export function relyingPartyOf(publicOrigin: string): RelyingParty {
  const url = new URL(publicOrigin);
  return { id: url.hostname, origin: url.origin };
}

/** One-use values with a lifetime, shared by every instance. */
export interface ChallengeStore {
  put(key: string, value: string, ttlMs: number): Promise<void>;
  /** The value, removed in the same step (null when absent or expired). */
  take(key: string): Promise<string | null>;
}

/** Long enough to find the key and touch it; a challenge is good for one answer. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
const RP_NAME = 'MaskWatch';
const TRANSPORTS = new Set<AuthenticatorTransportFuture>(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb']);

export interface NewKey {
  credentialId: string;
  publicKey: Uint8Array;
  signCount: number;
  transports: AuthenticatorTransportFuture[];
}

const transportsOf = (key: Pick<SecurityKeyRow, 'transports'>) =>
  key.transports.split(',').filter((t): t is AuthenticatorTransportFuture => TRANSPORTS.has(t as AuthenticatorTransportFuture));

/** Rejected answers: the message is for logs, the caller answers alike. */
export class SecurityKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecurityKeyError';
  }
}

/** The library's refusals (bad signature, wrong origin, counter gone back…) as SecurityKeyError. */
function refusal(err: unknown): never {
  throw new SecurityKeyError(err instanceof Error ? err.message : String(err));
}

export function createSecurityKeys(deps: { challenges: ChallengeStore }) {
  const slot = (purpose: 'register' | 'sign-in', userId: string) => `${purpose}:${userId}`;

  async function takeChallenge(purpose: 'register' | 'sign-in', userId: string): Promise<string> {
    const challenge = await deps.challenges.take(slot(purpose, userId));
    if (!challenge) throw new SecurityKeyError('no challenge pending (expired, used, or never asked)');
    return challenge;
  }

  return {
    /** What `navigator.credentials.create` needs; keys the user has are excluded (one registration each). */
    async registrationOptions(
      user: { id: string; username: string },
      existing: readonly SecurityKeyRow[],
      rp: RelyingParty,
    ): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const options = await generateRegistrationOptions({
        rpName: RP_NAME,
        rpID: rp.id,
        userName: user.username,
        userID: new TextEncoder().encode(user.id),
        attestationType: 'none',
        excludeCredentials: existing.map((k) => ({ id: k.credentialId, transports: transportsOf(k) })),
        // A second factor after the password: the key need not hold the account (discoverable) nor a PIN.
        authenticatorSelection: { residentKey: 'discouraged', userVerification: 'discouraged' },
        timeout: CHALLENGE_TTL_MS,
      });
      await deps.challenges.put(slot('register', user.id), options.challenge, CHALLENGE_TTL_MS);
      return options;
    },

    /** The browser's answer to `registrationOptions`, checked against the challenge given to this user. */
    async verifyRegistration(userId: string, response: RegistrationResponseJSON, rp: RelyingParty): Promise<NewKey> {
      const expectedChallenge = await takeChallenge('register', userId);
      const { verified, registrationInfo } = await verifyRegistrationResponse({
        response,
        expectedChallenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        requireUserVerification: false,
      }).catch(refusal);
      if (!verified) throw new SecurityKeyError('registration not verified');
      const { credential } = registrationInfo;
      return { credentialId: credential.id, publicKey: credential.publicKey, signCount: credential.counter, transports: credential.transports ?? [] };
    },

    /** What `navigator.credentials.get` needs to sign in as `userId` with one of `keys`. */
    async authenticationOptions(userId: string, keys: readonly SecurityKeyRow[], rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON> {
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        allowCredentials: keys.map((k) => ({ id: k.credentialId, transports: transportsOf(k) })),
        userVerification: 'discouraged',
        timeout: CHALLENGE_TTL_MS,
      });
      await deps.challenges.put(slot('sign-in', userId), options.challenge, CHALLENGE_TTL_MS);
      return options;
    },

    /** The key's new signature counter when `response` signs this user's pending challenge with `key`. */
    async verifyAuthentication(userId: string, response: AuthenticationResponseJSON, key: SecurityKeyRow, rp: RelyingParty): Promise<number> {
      const expectedChallenge = await takeChallenge('sign-in', userId);
      const { verified, authenticationInfo } = await verifyAuthenticationResponse({
        response,
        expectedChallenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.id,
        credential: { id: key.credentialId, publicKey: new Uint8Array(key.publicKey), counter: Number(key.signCount), transports: transportsOf(key) },
        requireUserVerification: false,
        // A counter that went back is a cloned key: refused like a bad signature.
      }).catch(refusal);
      if (!verified) throw new SecurityKeyError('signature not verified');
      return authenticationInfo.newCounter;
    },
  };
}

export type SecurityKeys = ReturnType<typeof createSecurityKeys>;
