/** A secret piped to a command (`--password-stdin`, `--passphrase-stdin`), e.g. from a secret store. */
export async function readSecretFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the shell's, not the secret's.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
