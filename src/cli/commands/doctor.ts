/**
 * `maskwatch doctor [--json] [--skip-vision]`: checks this deployment, as its environment configures it,
 * against what docs/operations.md requires (src/system/doctor.ts), and says how to fix what is wrong.
 * Changes nothing. Exit 0 when nothing failed, 1 when something did.
 */
import { parseArgs } from 'node:util';

const USAGE = `usage: maskwatch doctor [--json] [--skip-vision]
Checks this deployment as its environment configures it (the same variables as maskwatch start):
the database and its migrations; Redis (reachable, append-only file, no eviction, version); the clocks
of the database and Redis servers against this host's; the running API and worker processes (one release,
one secret key, the same settings as this host's); the workers on the frames queue; the data folder
(writable, owner-only, free space); the secret key; how browsers reach it; the sign-on provider and the
webhook targets, as this host reaches them; the vision models, loaded and run on a test frame.
Changes nothing. Exit 0 when no check failed (warnings are shown), 1 when one did.
--json         {ok, failed, warnings, checks: [{name, status, detail, fix?}]} on one line
--skip-vision  do not load the models (a host that runs only the API)
`;

const MARK = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skipped: 'skip' } as const;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let values: { json?: boolean; 'skip-vision'?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, 'skip-vision': { type: 'boolean' } } }));
  } catch (err) {
    process.stderr.write(`maskwatch doctor: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  const json = values.json ?? false;
  const [{ loadConfig, ConfigError }, { runDoctor }, checks] = await Promise.all([
    import('../../config/config.ts'),
    import('../../system/doctor.ts'),
    import('../../domain/deployment-checks.ts'),
  ]);
  const show = (r: import('../../domain/deployment-checks.ts').CheckResult) => {
    if (json) return;
    process.stdout.write(`${MARK[r.status]}  ${r.name.padEnd(18)} ${r.detail}\n${r.fix ? `${' '.repeat(26)}fix: ${r.fix}\n` : ''}`);
  };
  let results;
  try {
    const config = loadConfig();
    results = [checks.ok('configuration', 'the environment is a valid configuration')];
    show(results[0]!);
    results.push(...(await runDoctor({ config, vision: !values['skip-vision'], onResult: show })));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    results = [checks.fail('configuration', err.message, 'README § Configuration lists every variable')];
    show(results[0]!);
  }
  const summary = checks.summarise(results);
  if (json) process.stdout.write(JSON.stringify({ ...summary, checks: results }) + '\n');
  else process.stdout.write(`\n${summary.ok ? 'ok' : 'FAILED'}: ${summary.failed} failed, ${summary.warnings} warning${summary.warnings === 1 ? '' : 's'}, ${results.length} checks\n`);
  return summary.ok ? 0 : 1;
}
