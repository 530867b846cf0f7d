/**
 * `maskwatch scim-token [--json]`: a new bearer token for the directory's SCIM provisioning client, and the
 * SHA-256 MaskWatch keeps instead of it (MASKWATCH_SCIM_TOKEN_SHA256). The token is shown once; a server
 * configuration or backup holding only the hash gives nobody the power to provision accounts.
 */
import { createHash, randomBytes } from 'node:crypto';

const USAGE = `usage: maskwatch scim-token [--json]
Prints a new SCIM token (give it to the directory's provisioning, e.g. Entra ID's "Secret Token") and the
line to put in MaskWatch's environment. Setting the new hash ends the old token at the next restart.
--json: {"token", "tokenSha256"} on one line.
`;

/** A token of 256 random bits, and its hash as MASKWATCH_SCIM_TOKEN_SHA256 wants it. */
export function newScimToken(): { token: string; tokenSha256: string } {
  const token = `mwscim_${randomBytes(32).toString('base64url')}`;
  return { token, tokenSha256: createHash('sha256').update(token).digest('hex') };
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const extra = argv.find((a) => a !== '--json');
  if (extra !== undefined) {
    process.stderr.write(`maskwatch scim-token: unexpected argument "${extra}"\n${USAGE}`);
    return 1;
  }
  const made = newScimToken();
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify(made)}\n`);
  else process.stdout.write(`SCIM token (shown once; give it to the directory's provisioning client):\n  ${made.token}\n\nMaskWatch's setting:\n  MASKWATCH_SCIM_TOKEN_SHA256=${made.tokenSha256}\n`);
  return 0;
}
