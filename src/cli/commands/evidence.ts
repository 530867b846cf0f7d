/**
 * `maskwatch evidence verify FILE [--json] [--offline] [--public-key PEM]`: checks an incident's or a case's
 * evidence package (GET /api/v1/alerts/:id/evidence-package, POST /api/v1/evidence-packages) — every file
 * against its manifest and SHA256SUMS, nothing added or missing, the manifest's signature — and finds the
 * manifest's SHA-256 in this server's audit trail (`evidence.export`), so a package changed after export, or made elsewhere, is told apart from
 * the one MaskWatch gave out. `--offline` checks the package alone (no database), e.g. on the receiving side,
 * where `--public-key` (the key the agency published) proves its origin. An encrypted case package is opened
 * with `--passphrase-stdin` into a private temporary file, checked, and the file removed.
 * `maskwatch evidence key [--json]`: that public key, to publish.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readSecretFromStdin } from '../stdin.ts';

const USAGE = `usage: maskwatch evidence verify FILE [--json] [--offline] [--public-key PEM] [--passphrase-stdin]
       maskwatch evidence key [--json]
verify  checks an incident's or a case's evidence package (Admin › Closed incidents, or
        GET /api/v1/alerts/:id/evidence-package, POST /api/v1/evidence-packages): each file's SHA-256
        against manifest.json and SHA256SUMS, no file added or missing, the manifest's Ed25519 signature
        (manifest.sig, by signing-key.pem), and the manifest's SHA-256 recorded by this server's audit trail
        (evidence.export, for each incident of a case).
        Exit 0 when all holds, 1 naming each problem.
  --offline     the package alone, without the database (on the receiving side)
  --public-key  the key the agency published (PEM): the package must be signed by it
  --passphrase-stdin  an encrypted case package (…-encrypted.zip): its passphrase, read from stdin
  --json        {file, ok, encrypted, alertId, reference, alertIds, exportedAt, exportedBy, files,
                 manifestSha256, signature, recorded, problems} (a case: alertId null, reference its
                 case reference)
key     prints this server's evidence signing key (PEM) to publish, its SHA-256 fingerprint on stderr;
  --json        {algorithm, keyFingerprint, publicKeyPem}
`;

export type EvidenceArgs =
  | { command: 'verify'; file: string; json: boolean; offline: boolean; publicKey: string | null; passphraseStdin: boolean }
  | { command: 'key'; json: boolean };

/** Parses `evidence` arguments; throws an Error whose message is shown to the user. */
export function parseEvidenceArgs(argv: string[]): EvidenceArgs {
  const [command, ...rest] = argv;
  if (command !== 'verify' && command !== 'key') throw new Error(command ? `unknown subcommand "${command}"` : 'a subcommand is required');
  if (command === 'key') {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
    return { command, json: values.json ?? false };
  }
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, offline: { type: 'boolean' }, 'public-key': { type: 'string' }, 'passphrase-stdin': { type: 'boolean' } },
  });
  if (positionals.length !== 1) throw new Error(positionals.length === 0 ? 'the package FILE is required' : `unexpected argument "${positionals[1]}"`);
  return {
    command,
    file: positionals[0]!,
    json: values.json ?? false,
    offline: values.offline ?? false,
    publicKey: values['public-key'] ?? null,
    passphraseStdin: values['passphrase-stdin'] ?? false,
  };
}

/** `evidence key`: the public key, from the configured secret key (MASKWATCH_SECRET_KEY or secret.key). */
async function printKey(json: boolean): Promise<number> {
  const [{ loadConfigOrReport }, { secretKeys }, { evidenceSigner }, { SIGNATURE_ALGORITHM }] = await Promise.all([
    import('../../config/config.ts'),
    import('../../system/secret-key.ts'),
    import('../../system/evidence-signer.ts'),
    import('../../domain/evidence-package.ts'),
  ]);
  const config = loadConfigOrReport(process.stderr);
  if (!config) return 1;
  const { keyFingerprint, publicKeyPem } = await evidenceSigner(secretKeys(config))();
  if (json) process.stdout.write(JSON.stringify({ algorithm: SIGNATURE_ALGORITHM, keyFingerprint, publicKeyPem }) + '\n');
  else {
    process.stdout.write(publicKeyPem);
    process.stderr.write(`${SIGNATURE_ALGORITHM} evidence signing key, SHA-256 fingerprint ${keyFingerprint}\n`);
  }
  return 0;
}

/** The fingerprint of a PEM public key file; throws an Error whose message is shown to the user. */
async function trustedFingerprint(file: string): Promise<string> {
  const [{ createPublicKey }, { publicKeyFingerprint }] = await Promise.all([import('node:crypto'), import('../../domain/evidence-package.ts')]);
  const pem = await readFile(file);
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType === 'ed25519') return publicKeyFingerprint(key);
  } catch {
    // reported below
  }
  throw new Error(`--public-key ${file} is not an Ed25519 public key (PEM)`);
}

/**
 * The package inside an encrypted one, decrypted into an owner-only temporary folder, read, and removed: its
 * HMAC is checked while it is written, so nothing altered is read.
 */
async function readEncryptedPackage<T>(file: string, passphrase: string, read: (file: string) => Promise<T>): Promise<T> {
  const { decryptZip } = await import('../../privacy/encrypted-zip.ts');
  const dir = await mkdtemp(join(tmpdir(), 'maskwatch-evidence-'));
  try {
    const inner = join(dir, 'package.zip');
    const out = createWriteStream(inner, { mode: 0o600 });
    try {
      await decryptZip(file, passphrase, out);
    } finally {
      await new Promise<void>((resolve) => out.end(resolve));
    }
    return await read(inner);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 1 : 0;
  }
  let args: Extract<EvidenceArgs, { command: 'verify' }>;
  let trusted: string | undefined;
  const cannotRead = (e: NodeJS.ErrnoException) => `maskwatch evidence: cannot read ${e.path ?? 'the file'}: ${e.message}\n`;
  try {
    const parsed = parseEvidenceArgs(argv);
    if (parsed.command === 'key') return await printKey(parsed.json);
    args = parsed;
    trusted = args.publicKey ? await trustedFingerprint(args.publicKey) : undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(e.code ? cannotRead(e) : `maskwatch evidence: ${e.message}\n${USAGE}`);
    return 1;
  }
  const [{ readPackageEntries }, { checkPackage, manifestAlertIds, CASE_PACKAGE_FORMAT, EVIDENCE_PACKAGE_FORMAT }] = await Promise.all([
    import('../package-reader.ts'),
    import('../../domain/evidence-package.ts'),
  ]);
  let read: Awaited<ReturnType<typeof readPackageEntries>>;
  let encrypted = false;
  try {
    const { isEncryptedZip } = await import('../../privacy/encrypted-zip.ts');
    encrypted = await isEncryptedZip(args.file);
    if (encrypted && !args.passphraseStdin) {
      process.stderr.write(`maskwatch evidence: ${args.file} is an encrypted package: pipe its passphrase with --passphrase-stdin (or open it with 7-Zip first)\n`);
      return 1;
    }
    read = encrypted ? await readEncryptedPackage(args.file, await readSecretFromStdin(), readPackageEntries) : await readPackageEntries(args.file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.name === 'EncryptedZipError') process.stderr.write(`maskwatch evidence: ${args.file}: ${e.message}\n`);
    else process.stderr.write(e.code ? cannotRead(e) : `maskwatch evidence: ${args.file} is not a readable ZIP: ${e.message}\n`);
    return 1;
  }
  const check = checkPackage(read.entries, { trustedKeyFingerprint: trusted });
  const problems = [...read.duplicates.map((name) => `${name}: in the archive more than once (a ZIP tool would show only one of them)`), ...check.problems];
  let recorded: import('../../services/evidence-package.ts').ExportRecord | null = null;
  const m = check.manifest;
  const alertIds = m ? manifestAlertIds(m) : [];
  if (!args.offline && m && check.manifestSha256) {
    const [{ openCliDatabase }, { findExportRecord }] = await Promise.all([import('../database.ts'), import('../../services/evidence-package.ts')]);
    const opened = await openCliDatabase();
    if (!opened) return 1;
    // A case's export is recorded once per incident: each must be on record, by the manifest's exporter.
    const records = [];
    try {
      for (const id of alertIds) records.push(await findExportRecord(opened.repos.audit, id, check.manifestSha256));
    } finally {
      await opened.db.close();
    }
    const of = (id: string) => (alertIds.length > 1 ? ` of alert ${id}` : '');
    records.forEach((r, i) => {
      if (!r) problems.push(`the audit trail records no export${of(alertIds[i]!)} of this manifest (made on another server, or manifest.json was replaced)`);
      else if (r.actorId !== m.exportedBy.id) problems.push(`the audit trail records this export${of(alertIds[i]!)} by ${r.actorId}, the manifest says ${m.exportedBy.id}`);
    });
    recorded = records.every(Boolean) ? records[0]! : null;
  }
  const ok = problems.length === 0;
  const reference = m?.format === CASE_PACKAGE_FORMAT ? m.reference : null;
  if (args.json) {
    const report = {
      file: args.file,
      ok,
      encrypted,
      alertId: m?.format === EVIDENCE_PACKAGE_FORMAT ? m.alertId : null,
      reference,
      alertIds,
      exportedAt: m?.exportedAt ?? null,
      exportedBy: m?.exportedBy ?? null,
      files: m?.files.length ?? 0,
      manifestSha256: check.manifestSha256,
      signature: check.signature,
      recorded,
      problems,
    };
    process.stdout.write(JSON.stringify(report) + '\n');
  } else {
    const lines: string[] = [];
    const what = reference === null ? `alert ${alertIds[0]}` : `case ${reference} (${alertIds.length} incident${alertIds.length === 1 ? '' : 's'})`;
    if (m) lines.push(`${encrypted ? 'encrypted ' : ''}evidence package of ${what}, exported ${m.exportedAt} by ${m.exportedBy.username} (${m.exportedBy.role}); ${m.files.length} files`);
    if (check.signature?.valid) lines.push(`signed (Ed25519) by the key with SHA-256 fingerprint ${check.signature.keyFingerprint}${trusted ? ', the trusted key' : ''}`);
    else if (m && !check.signature) lines.push('not signed (exported before packages were signed)');
    if (recorded) lines.push(`recorded in the audit trail: evidence.export at ${recorded.at} (event ${recorded.eventId})`);
    else if (args.offline && m) lines.push('not looked up in the audit trail (--offline)');
    for (const p of problems) lines.push(`PROBLEM: ${p}`);
    lines.push(ok ? `ok: every file is as exported${args.offline ? '' : ' and the export is on record'}` : `FAILED: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    (ok ? process.stdout : process.stderr).write(lines.join('\n') + '\n');
  }
  return ok ? 0 : 1;
}
