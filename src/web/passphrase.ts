/**
 * Passphrases for encrypted evidence packages: 24 characters of a 32-letter alphabet without look-alikes (no
 * 0/O, 1/I), 120 random bits, in groups of four to read out over the phone. The package's format derives its
 * key weakly (PBKDF2-SHA1, 1,000 rounds), so the strength must be in the passphrase.
 */
const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
export const PASSPHRASE_GROUPS = 6;

export function generatePassphrase(randomBytes: (n: number) => Uint8Array = (n) => crypto.getRandomValues(new Uint8Array(n))): string {
  const bytes = randomBytes(PASSPHRASE_GROUPS * 4);
  // 256 is a multiple of 32: taking each byte mod 32 keeps every letter equally likely.
  const letters = [...bytes].map((b) => ALPHABET[b % 32]!);
  return Array.from({ length: PASSPHRASE_GROUPS }, (_, g) => letters.slice(g * 4, g * 4 + 4).join('')).join('-');
}
