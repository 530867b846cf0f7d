/**
 * `maskwatch users add --username U --role ADMIN|DISPATCHER|OFFICER [--unit CALLSIGN] [--zone ZONE]... [--password-stdin]`
 * `maskwatch users list [--json]`
 * The password comes from stdin (--password-stdin, e.g. from a secret store) or
 * from a hidden prompt on a terminal — never from argv, which other users can see.
 */
import { parseArgs } from 'node:util';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { isRole, normaliseZones } from '../../auth/roles.ts';
import { LIFECYCLE_USAGE, isLifecycleCommand, parseLifecycleArgs, runLifecycle } from './user-lifecycle.ts';
import { readSecretFromStdin } from '../stdin.ts';

const USAGE = `usage:
  maskwatch users add --username U --role ADMIN|DISPATCHER|OFFICER [--unit CALLSIGN] [--zone ZONE]... [--password-stdin]
  maskwatch users list [--json]            --json: one JSON object per line (an access review's input)
${LIFECYCLE_USAGE}An OFFICER needs --unit (the patrol unit's call sign; created if it does not exist by users add).
A DISPATCHER given --zone (repeatable) sees only alerts of cameras in those zones; without, every zone.
Without --password-stdin the password is asked for on the terminal.
`;

export interface AddUserArgs {
  username: string;
  role: 'ADMIN' | 'DISPATCHER' | 'OFFICER';
  unit: string | null;
  zones: string[];
  passwordStdin: boolean;
}

/** Parses `users add` flags; throws an Error whose message is shown to the user. */
export function parseAddArgs(argv: string[]): AddUserArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      username: { type: 'string' },
      role: { type: 'string' },
      unit: { type: 'string' },
      zone: { type: 'string', multiple: true },
      'password-stdin': { type: 'boolean' },
    },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  if (!values.username) throw new Error('--username is required');
  const role = values.role?.toUpperCase();
  if (!isRole(role)) throw new Error('--role must be ADMIN, DISPATCHER or OFFICER');
  if (role === 'OFFICER' && !values.unit) throw new Error('an OFFICER needs --unit CALLSIGN');
  if (role !== 'OFFICER' && values.unit !== undefined) throw new Error('only officers belong to a patrol unit: leave out --unit');
  if (values.unit !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(values.unit)) {
    throw new Error('--unit must be 1–64 letters, digits, ".", "_" or "-"');
  }
  const { zones, problem } = normaliseZones(role, values.zone ?? []);
  if (problem) throw new Error(`--zone: ${problem}`);
  return { username: values.username, role, unit: values.unit ?? null, zones, passwordStdin: values['password-stdin'] ?? false };
}

/** Asks twice on the terminal without echoing. */
async function promptPassword(): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      process.stderr.write(q);
      muted = true;
      rl.question('', (answer) => {
        muted = false;
        process.stderr.write('\n');
        resolve(answer);
      });
    });
  try {
    const first = await ask('Password: ');
    const second = await ask('Repeat password: ');
    if (first !== second) throw new Error('passwords do not match');
    return first;
  } finally {
    rl.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(USAGE);
    return sub ? 0 : 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (isLifecycleCommand(sub)) {
    let args;
    try {
      args = parseLifecycleArgs(sub, rest);
    } catch (err) {
      process.stderr.write(`maskwatch users ${sub}: ${(err as Error).message}\n${USAGE}`);
      return 1;
    }
    const stdin = args.passwordStdin;
    return runLifecycle(args, async () => {
      if (stdin) return readSecretFromStdin();
      if (process.stdin.isTTY) return promptPassword();
      throw new Error('no terminal to ask for the password: pipe it with --password-stdin');
    });
  }
  if (sub !== 'add' && sub !== 'list') {
    process.stderr.write(`maskwatch users: unknown subcommand "${sub}"\n${USAGE}`);
    return 1;
  }
  let args: AddUserArgs | null = null;
  let password = '';
  try {
    if (sub === 'add') {
      args = parseAddArgs(rest);
      if (args.passwordStdin) password = await readSecretFromStdin();
      else if (process.stdin.isTTY) password = await promptPassword();
      else throw new Error('no terminal to ask for the password: pipe it with --password-stdin');
    } else if (rest.some((a) => a !== '--json')) {
      throw new Error(`unexpected argument "${rest.find((a) => a !== '--json')}"`);
    }
  } catch (err) {
    process.stderr.write(`maskwatch users ${sub}: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }

  // The database and account modules load only now: --help and argument errors answer at once.
  const [{ openCliDatabase }, { createUserService }, { buildAuthService }, { ServiceError }] = await Promise.all([
    import('../database.ts'),
    import('../../services/users.ts'),
    import('../../auth/wiring.ts'),
    import('../../services/errors.ts'),
  ]);
  const opened = await openCliDatabase();
  if (!opened) return 1;
  const { config, logger, db, repos } = opened;
  const users = createUserService({
    users: repos.users,
    units: repos.units,
    keys: repos.securityKeys,
    auth: buildAuthService({ config, db, logger }),
    securityKeyRoles: config.security.mfa.securityKeyRoles,
  });
  try {
    if (sub === 'list' && rest.includes('--json')) {
      // The names of GET /api/v1/users where they mean the same; `unit` is the call sign.
      for (const { unitCallSign, disabled, ...u } of await users.listWithUnits()) {
        process.stdout.write(`${JSON.stringify({ username: u.username, role: u.role, unit: unitCallSign, zones: u.zones, enabled: !disabled, mfaEnabled: u.mfaEnabled, securityKeys: u.securityKeys, securityKeyRequired: u.securityKeyRequired, ssoLinked: u.ssoLinked, lastSignInAt: u.lastSignInAt, createdAt: u.createdAt })}\n`);
      }
      return 0;
    }
    if (sub === 'list') {
      for (const u of await users.listWithUnits()) {
        process.stdout.write(`${u.username}\t${u.role}\t${u.unitCallSign ?? '-'}${u.zones.length > 0 ? `\tzones: ${u.zones.join(', ')}` : ''}${u.disabled ? '\tdisabled' : ''}${u.mfaEnabled ? '\ttwo-factor' : ''}${u.securityKeys ? `\tsecurity keys: ${u.securityKeys}` : u.securityKeyRequired ? '\tsecurity key due' : ''}${u.ssoLinked ? '\tsingle sign-on' : ''}\n`);
      }
      return 0;
    }
    const a = args!;
    if (a.unit && (await users.ensureUnit(a.unit))) process.stderr.write(`created patrol unit ${a.unit}\n`);
    const user = await users.create(
      { username: a.username, password, role: a.role, unitCallSign: a.unit, zones: a.zones },
      { type: 'SYSTEM', id: 'cli' },
    );
    process.stdout.write(`created user ${user.username} (${user.role}${a.unit ? `, unit ${a.unit}` : ''}${a.zones.length > 0 ? `, zones ${a.zones.join(', ')}` : ''}) id=${user.id}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ServiceError) {
      process.stderr.write(`maskwatch users add: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await db.close();
  }
}
