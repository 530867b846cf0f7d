/**
 * `maskwatch users disable|enable|set-role|set-unit|set-zones|reset-password|reset-mfa|unlink-sso|revoke-sessions|delete USERNAME …`
 *
 * The same use cases as Admin › Users and the API (src/services/accounts.ts):
 * sessions end in the database at once; sockets are dropped through Redis on
 * every API instance, or by the API's periodic re-check when Redis cannot be
 * reached from here. Works without any admin account, so it is also the
 * break-glass path (e.g. re-enabling the only admin).
 */
import { parseArgs } from 'node:util';
import type { Repositories } from '../../db/repositories/index.ts';
import type { AccountActor, SessionSockets } from '../../services/accounts.ts';
import { ServiceError } from '../../services/errors.ts';
import { isRole, normaliseZones } from '../../auth/roles.ts';

export const LIFECYCLE_USAGE = `  maskwatch users disable USERNAME          end the user's sessions; they cannot log in
  maskwatch users enable USERNAME
  maskwatch users set-role USERNAME ADMIN|DISPATCHER|OFFICER [--unit CALLSIGN]
  maskwatch users set-unit USERNAME CALLSIGN|--none
  maskwatch users set-zones USERNAME ZONE...|--none  a dispatcher sees only these zones' alerts (--none: every zone)
  maskwatch users reset-password USERNAME [--password-stdin] [--must-change]
  maskwatch users reset-mfa USERNAME        remove the user's two-factor sign-in (a lost phone)
  maskwatch users unlink-sso USERNAME       unlink the account from its directory identity (single sign-on)
  maskwatch users revoke-sessions USERNAME  log the user out everywhere
  maskwatch users delete USERNAME           anonymise the account (the audit trail is kept)
Role, unit, zones, disable, password, two-factor, single sign-on and delete changes end the user's sessions.
`;

export const LIFECYCLE_COMMANDS = ['disable', 'enable', 'set-role', 'set-unit', 'set-zones', 'reset-password', 'reset-mfa', 'unlink-sso', 'revoke-sessions', 'delete'] as const;
export type LifecycleCommand = (typeof LIFECYCLE_COMMANDS)[number];

export function isLifecycleCommand(sub: string): sub is LifecycleCommand {
  return (LIFECYCLE_COMMANDS as readonly string[]).includes(sub);
}

export interface LifecycleArgs {
  command: LifecycleCommand;
  username: string;
  role?: 'ADMIN' | 'DISPATCHER' | 'OFFICER';
  /** Call sign; null: no unit (set-unit --none). */
  unit?: string | null;
  /** set-zones: the dispatcher's zones ([]: every zone). */
  zones?: string[];
  passwordStdin: boolean;
  mustChange: boolean;
}

const CALL_SIGN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses a lifecycle subcommand's arguments; throws an Error whose message is shown to the user. */
export function parseLifecycleArgs(command: LifecycleCommand, argv: string[]): LifecycleArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { unit: { type: 'string' }, none: { type: 'boolean' }, 'password-stdin': { type: 'boolean' }, 'must-change': { type: 'boolean' } },
  });
  const [username, value, extra] = positionals;
  if (!username) throw new Error('USERNAME is required');
  const args: LifecycleArgs = { command, username, passwordStdin: values['password-stdin'] ?? false, mustChange: values['must-change'] ?? false };
  const allowed: Record<LifecycleCommand, string[]> = {
    disable: [],
    enable: [],
    'revoke-sessions': [],
    'reset-mfa': [],
    'unlink-sso': [],
    delete: [],
    'set-role': ['unit'],
    'set-unit': ['none'],
    'set-zones': ['none'],
    'reset-password': ['password-stdin', 'must-change'],
  };
  for (const flag of Object.keys(values)) {
    if (!allowed[command].includes(flag)) throw new Error(`--${flag} does not apply to ${command}`);
  }
  if (command === 'set-zones') {
    const zones = positionals.slice(1);
    if (values.none && zones.length > 0) throw new Error('give ZONEs or --none, not both');
    if (!values.none && zones.length === 0) throw new Error('give the ZONEs, or --none to let the dispatcher see every zone');
    const { zones: clean, problem } = normaliseZones('DISPATCHER', zones);
    if (problem) throw new Error(problem);
    return { ...args, zones: clean };
  }
  if (command === 'set-unit' && values.none && value !== undefined) throw new Error('give a CALLSIGN or --none, not both');
  const wantsValue = command === 'set-role' || (command === 'set-unit' && !values.none);
  if (extra !== undefined || (!wantsValue && value !== undefined)) throw new Error(`unexpected argument "${extra ?? value}"`);
  if (command === 'set-role') {
    const role = value?.toUpperCase();
    if (!isRole(role)) throw new Error('the role must be ADMIN, DISPATCHER or OFFICER');
    args.role = role;
    if (values.unit !== undefined) args.unit = values.unit;
  }
  if (command === 'set-unit') {
    if (!values.none && value === undefined) throw new Error('give the unit CALLSIGN, or --none to take the user out of their unit');
    args.unit = values.none ? null : value!;
  }
  if (args.unit && !CALL_SIGN.test(args.unit)) throw new Error('the unit call sign must be 1–64 letters, digits, ".", "_" or "-"');
  return args;
}

/** Runs one lifecycle subcommand; the exit code. `readPassword` supplies reset-password's new password. */
export async function runLifecycle(args: LifecycleArgs, readPassword: () => Promise<string>): Promise<number> {
  let password = '';
  try {
    if (args.command === 'reset-password') password = await readPassword();
  } catch (err) {
    process.stderr.write(`maskwatch users ${args.command}: ${(err as Error).message}\n`);
    return 1;
  }
  // Loaded only for a command that runs (usage and argument errors answer at once).
  const [{ openCliDatabase }, { connectCliRedis }, { emitterSessionSockets }, { createAccountService }] = await Promise.all([
    import('../database.ts'),
    import('../redis.ts'),
    import('../../realtime/session-watch.ts'),
    import('../../services/accounts.ts'),
  ]);
  const opened = await openCliDatabase();
  if (!opened) return 1;
  const { config, logger, db, repos } = opened;
  const redis = await connectCliRedis(config, "the API instances drop the user's open connections at their next session check (MASKWATCH_SESSION_CHECK_MS) instead of at once");
  const sockets: SessionSockets | undefined = redis ? emitterSessionSockets(redis, config.queuePrefix) : undefined;
  const accounts = createAccountService({ users: repos.users, keys: repos.securityKeys, sessions: repos.sessions, audit: repos.audit, sockets, logger });
  const actor: AccountActor = { type: 'SYSTEM', id: 'cli' };
  try {
    const id = await accounts.idOf(args.username);
    const name = args.username;
    switch (args.command) {
      case 'disable':
        await accounts.update(id, { enabled: false }, actor);
        process.stdout.write(`disabled user ${name}; their sessions ended\n`);
        break;
      case 'enable':
        await accounts.update(id, { enabled: true }, actor);
        process.stdout.write(`enabled user ${name}\n`);
        break;
      case 'set-role': {
        const unitId = args.unit ? await unitIdOf(repos, args.unit) : undefined;
        const u = await accounts.update(id, { role: args.role, ...(unitId !== undefined ? { unitId } : {}) }, actor);
        process.stdout.write(`user ${name} is now ${u.role}${args.unit ? ` of unit ${args.unit}` : ''}; their sessions ended\n`);
        break;
      }
      case 'set-zones': {
        const zones = args.zones ?? [];
        await accounts.update(id, { zones }, actor);
        process.stdout.write(`user ${name} ${zones.length > 0 ? `now sees the alerts of zones ${zones.join(', ')}` : 'now sees every zone'}; their sessions ended\n`);
        break;
      }
      case 'set-unit': {
        const unitId = args.unit ? await unitIdOf(repos, args.unit) : null;
        await accounts.update(id, { unitId }, actor);
        process.stdout.write(`user ${name} ${args.unit ? `moved to unit ${args.unit}` : 'has no unit now'}; their sessions ended\n`);
        break;
      }
      case 'reset-password':
        await accounts.resetPassword(id, password, actor, { mustChangePassword: args.mustChange });
        process.stdout.write(`password of ${name} reset${args.mustChange ? ' (to be changed at next login)' : ''}; their sessions ended\n`);
        break;
      case 'reset-mfa': {
        const { sessionsRevoked, securityKeysRemoved } = await accounts.resetMfa(id, actor);
        const keys = securityKeysRemoved > 0 ? ` with ${securityKeysRemoved} security key${securityKeysRemoved === 1 ? '' : 's'}` : '';
        process.stdout.write(`two-factor sign-in of ${name} removed${keys}; ${sessionsRevoked} session${sessionsRevoked === 1 ? '' : 's'} ended\n`);
        break;
      }
      case 'unlink-sso': {
        const { sessionsRevoked } = await accounts.unlinkSso(id, actor);
        process.stdout.write(`${name} unlinked from its directory identity; ${sessionsRevoked} session${sessionsRevoked === 1 ? '' : 's'} ended\n`);
        break;
      }
      case 'revoke-sessions': {
        const n = await accounts.revokeSessions(id, actor);
        process.stdout.write(`revoked ${n} session${n === 1 ? '' : 's'} of ${name}\n`);
        break;
      }
      case 'delete':
        await accounts.delete(id, actor);
        process.stdout.write(`deleted user ${name} (account anonymised, audit trail kept)\n`);
        break;
    }
    return 0;
  } catch (err) {
    if (err instanceof ServiceError) {
      process.stderr.write(`maskwatch users ${args.command}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    redis?.disconnect();
    await db.close();
  }
}

async function unitIdOf(repos: Repositories, callSign: string): Promise<string> {
  const id = await repos.users.unitIdByCallSign(callSign);
  if (!id) throw new ServiceError('INVALID', `no patrol unit with call sign "${callSign}"`, 'invalid-user');
  return id;
}
