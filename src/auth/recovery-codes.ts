import { createHash, randomBytes } from 'node:crypto';
import { base32Encode } from './totp.ts';

/**
 * Recovery codes: one-use stand-ins for the authenticator app, shown once
 * when two-factor sign-in is turned on. 50 random bits each, written
 * `abcde-fghij` (base32, lower case); stored as sha256, bound to the user.
 */
export const RECOVERY_CODE_COUNT = 10;
const LENGTH = 10;

export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const code = base32Encode(randomBytes(8)).slice(0, LENGTH).toLowerCase();
    return `${code.slice(0, 5)}-${code.slice(5)}`;
  });
}

/** The code as typed (any case, with or without the dash and spaces), or null when it cannot be one. */
export function normalizeRecoveryCode(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, '').toLowerCase();
  return /^[a-z2-7]{10}$/.test(code) ? code : null;
}

export function recoveryCodeHash(userId: string, normalized: string): string {
  return createHash('sha256').update(`${userId}\n${normalized}`).digest('hex');
}
