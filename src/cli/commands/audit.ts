/**
 * `maskwatch audit export [filters] [--out FILE]`: the audit trail as JSON Lines, oldest first (a SIEM, an archive).
 * `maskwatch audit prune --before ISO --archive FILE | --no-archive`: delete the trail before a date, archived first.
 * `maskwatch audit seal` / `maskwatch audit verify [--json]`: seal the new events now / check every seal (tamper evidence).
 *
 * Retention never touches the trail (it holds no images); this is how a site applies its own policy to it.
 * Runs against the database directly, like `maskwatch users`, and is audited as SYSTEM / cli.
 */
import { closeSync, createWriteStream, fsyncSync, openSync, statSync, unlinkSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { AuditFilter, AuditRepository } from '../../db/repositories/audit.ts';
import type { Config } from '../../config/config.ts';
import type { AuditSink } from '../../services/audit-log.ts';

const USAGE = `usage:
  maskwatch audit export [--from ISO] [--to ISO] [--action PREFIX] [--actor ID] [--subject-type TYPE] [--subject PREFIX] [--out FILE]
      the audit trail, oldest first, as JSON Lines (one event per line, as GET /api/v1/audit gives it) on stdout or
      in FILE (created; never overwritten); --from inclusive, --to exclusive
  maskwatch audit prune --before ISO (--archive FILE | --no-archive)
      delete the events before the date (at least a day old), written to FILE first
  maskwatch audit seal
      seal the events not sealed yet (older than 5 minutes); the worker does it after each retention run
  maskwatch audit verify [--json]
      recompute every seal: exit 0 when the trail is intact, 1 naming each seal whose events were changed,
      deleted or added, or that was not made with this server's secret key
Export, prune and verify are audited (audit.export, audit.prune, audit.verify).
`;

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
// The same checks as GET /api/v1/audit's query (src/contracts/api.ts).
const ACTION = /^[a-z_.]{1,100}$/;
const ACTOR_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SUBJECT_TYPE = /^[A-Za-z]{1,64}$/;

export type AuditArgs =
  | { command: 'export'; filter: AuditFilter; out: string | null }
  | { command: 'prune'; before: Date; archive: string | null }
  | { command: 'seal' }
  | { command: 'verify'; json: boolean };

function date(flag: string, value: string): Date {
  const d = new Date(value);
  if (!ISO.test(value) || Number.isNaN(d.getTime())) throw new Error(`${flag} must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T00:00:00Z`);
  return d;
}

function matching(flag: string, value: string | undefined, pattern: RegExp, what: string): string | undefined {
  if (value !== undefined && !pattern.test(value)) throw new Error(`${flag} must be ${what}`);
  return value;
}

/** Parses `audit export|prune` arguments; throws an Error whose message is shown to the user. */
export function parseAuditArgs(argv: string[]): AuditArgs {
  const [command, ...rest] = argv;
  if (command === 'seal' || command === 'verify') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: command === 'verify' ? { json: { type: 'boolean' } } : {} });
    if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
    return command === 'seal' ? { command } : { command, json: (values as { json?: boolean }).json ?? false };
  }
  if (command !== 'export' && command !== 'prune') throw new Error(command ? `unknown subcommand "${command}"` : 'a subcommand is required');
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options:
      command === 'export'
        ? {
            from: { type: 'string' },
            to: { type: 'string' },
            action: { type: 'string' },
            actor: { type: 'string' },
            'subject-type': { type: 'string' },
            subject: { type: 'string' },
            out: { type: 'string' },
          }
        : { before: { type: 'string' }, archive: { type: 'string' }, 'no-archive': { type: 'boolean' } },
  }) as { values: Record<string, string | boolean | undefined>; positionals: string[] };
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const str = (k: string) => values[k] as string | undefined;
  if (command === 'prune') {
    if (!str('before')) throw new Error('--before is required');
    if (!str('archive') === !values['no-archive']) throw new Error('give --archive FILE (to keep what is deleted) or --no-archive');
    return { command, before: date('--before', str('before')!), archive: str('archive') ?? null };
  }
  const from = str('from') === undefined ? undefined : date('--from', str('from')!);
  const to = str('to') === undefined ? undefined : date('--to', str('to')!);
  if (from && to && to <= from) throw new Error('--to must be after --from');
  const subject = str('subject');
  if (subject !== undefined && (subject.length === 0 || subject.length > 200)) throw new Error('--subject must be 1–200 characters');
  const filter: AuditFilter = {
    from,
    to,
    action: matching('--action', str('action'), ACTION, 'a lowercase dotted action prefix, e.g. alert. or snapshot.view'),
    actorId: matching('--actor', str('actor'), ACTOR_ID, "a user's or camera's id"),
    subjectType: matching('--subject-type', str('subject-type'), SUBJECT_TYPE, 'a subject type, e.g. Alert'),
    subjectId: subject,
  };
  return { command, filter, out: str('out') ?? null };
}

/**
 * A JSON Lines sink on stdout, or in a new owner-only file (the trail holds client IPs), opened at once so that
 * an existing file is refused before any work. Counts on a terminal's stderr as it goes.
 */
function openSink(file: string | null): AuditSink {
  const fd = file === null ? null : openSync(file, 'wx', 0o600);
  const stream: Writable = fd === null ? process.stdout : createWriteStream('', { fd, autoClose: false });
  let written = 0;
  return {
    async write(events) {
      const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
      await new Promise<void>((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
      written += events.length;
      if (process.stderr.isTTY) process.stderr.write(`\r${written} events…`);
    },
    async finish() {
      if (process.stderr.isTTY && written > 0) process.stderr.write('\r');
      if (fd === null) return;
      // On disk before a prune deletes anything.
      await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
      fsyncSync(fd);
      closeSync(fd);
    },
  };
}

export async function run(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 1 : 0;
  }
  let args: AuditArgs;
  let sink: AuditSink | null;
  const file = () => (args.command === 'export' ? args.out : args.command === 'prune' ? args.archive : null);
  try {
    args = parseAuditArgs(argv);
    sink = args.command === 'export' || (args.command === 'prune' && args.archive) ? openSink(file()) : null;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') process.stderr.write(`maskwatch audit: ${file()} already exists: give a new file\n`);
    else if (e.code) process.stderr.write(`maskwatch audit: cannot create ${file()}: ${e.message}\n`);
    else process.stderr.write(`maskwatch audit: ${e.message}\n${USAGE}`);
    return 1;
  }

  // The database loads only now: --help and argument errors answer at once.
  const [{ openCliDatabase }, { createAuditLogService }, { ServiceError }] = await Promise.all([
    import('../database.ts'),
    import('../../services/audit-log.ts'),
    import('../../services/errors.ts'),
  ]);
  const opened = await openCliDatabase();
  if (!opened) return 1;
  const { db, repos, config } = opened;
  if (args.command === 'seal' || args.command === 'verify') {
    try {
      return await sealOrVerify(args, repos.audit, config);
    } finally {
      await db.close();
    }
  }
  const auditLog = createAuditLogService({ audit: repos.audit, evidence: repos.evidence, users: repos.users, cameras: repos.cameras });
  const cli = { actorType: 'SYSTEM', actorId: 'cli' } as const;
  const plural = (n: number) => `${n} audit event${n === 1 ? '' : 's'}`;
  try {
    if (args.command === 'export') {
      const count = await auditLog.export(cli, args.filter, sink!);
      process.stderr.write(`exported ${plural(count)}${args.out ? ` to ${args.out}` : ''}\n`);
      return 0;
    }
    const { archived, deleted } = await auditLog.prune(cli, args.before, sink);
    const kept = archived === null ? ' (not archived)' : `; ${archived} archived to ${args.archive}`;
    process.stdout.write(`deleted ${plural(deleted)} before ${args.before.toISOString()}${kept}\n`);
    return 0;
  } catch (err) {
    // A refused or failed run leaves no empty file behind to be mistaken for an archive.
    const out = file();
    if (out && statSync(out, { throwIfNoEntry: false })?.size === 0) unlinkSync(out);
    if (!(err instanceof ServiceError)) throw err;
    process.stderr.write(`maskwatch audit ${args.command}: ${err.message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}

/** `audit seal` and `audit verify`: the trail's tamper evidence (src/services/audit-seals.ts). */
async function sealOrVerify(args: { command: 'seal' } | { command: 'verify'; json: boolean }, audit: AuditRepository, config: Config): Promise<number> {
  const [{ createAuditSealService }, { secretKeys }] = await Promise.all([import('../../services/audit-seals.ts'), import('../../system/secret-key.ts')]);
  const keys = secretKeys(config);
  const seals = createAuditSealService({ audit, key: () => keys('audit seals') });
  if (args.command === 'seal') {
    const sealed = await seals.seal();
    process.stdout.write(sealed ? `sealed ${sealed.count} audit events as seal ${sealed.seq} (up to ${sealed.toAt.toISOString()})\n` : 'nothing to seal: no event older than 5 minutes since the last seal\n');
    return 0;
  }
  const report = await seals.verify({ actorType: 'SYSTEM', actorId: 'cli' });
  if (args.json) process.stdout.write(JSON.stringify(report) + '\n');
  else {
    const pruned = report.prunedSeals > 0 ? ` (${report.prunedSeals} pruned, not recomputed)` : '';
    process.stdout.write(
      `audit trail: ${report.ok ? 'intact' : 'TAMPERED'}: ${report.seals} seals${pruned}, ${report.sealedEvents} sealed events recomputed, ${report.unsealedEvents} not sealed yet\n`,
    );
    for (const p of report.problems) process.stdout.write(`  seal ${p.seq} (${p.kind}): ${p.detail}\n`);
    if (report.lastSeal) process.stdout.write(`last seal: ${report.lastSeal.seq}, made ${report.lastSeal.sealedAt}, up to ${report.lastSeal.toAt}, hash ${report.lastSeal.hash}\n`);
  }
  return report.ok ? 0 : 1;
}
