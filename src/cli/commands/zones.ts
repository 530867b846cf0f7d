/**
 * `maskwatch zones list [--json]`: every zone, its cameras and open alerts, and the dispatchers who see it.
 * `maskwatch zones rename FROM TO`: rename a zone on every camera and dispatcher at once (merging into TO if it exists).
 * Runs against the database directly, like `maskwatch users`, audited as SYSTEM / cli.
 */
const USAGE = `usage:
  maskwatch zones list [--json]      --json: one JSON object per line, as GET /api/v1/zones gives each zone
  maskwatch zones rename FROM TO     on every camera and in every dispatcher's zones; into an existing zone, the two merge
A zone no dispatcher sees (dispatchers 0) sends its alerts to admins only. Open dashboards pick a rename up within
seconds; MASKWATCH_SSO_ZONE_GROUPS and MASKWATCH_WEBHOOKS name zones too: change them with it.
`;

export type ZonesArgs = { command: 'list'; json: boolean } | { command: 'rename'; from: string; to: string };

/** Parses the arguments; throws an Error whose message is shown to the user. */
export function parseZonesArgs(argv: string[]): ZonesArgs {
  const [command, ...rest] = argv;
  if (command === 'list') {
    const extra = rest.find((a) => a !== '--json');
    if (extra !== undefined) throw new Error(`unexpected argument "${extra}"`);
    return { command, json: rest.includes('--json') };
  }
  if (command === 'rename') {
    if (rest.length !== 2) throw new Error('rename needs the zone\'s name and its new name');
    return { command, from: rest[0]!, to: rest[1]! };
  }
  throw new Error(command ? `unknown subcommand "${command}"` : 'a subcommand is needed');
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let args: ZonesArgs;
  try {
    args = parseZonesArgs(argv);
  } catch (err) {
    process.stderr.write(`maskwatch zones: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  // The database loads only now: --help and argument errors answer at once.
  const [{ openCliDatabase }, { connectCliRedis }, { createZoneService }, { ServiceError }, { zonesInSettings }, { createAnnouncer, socketChannel }, { createAlertPublisher }] = await Promise.all([
    import('../database.ts'),
    import('../redis.ts'),
    import('../../services/zones.ts'),
    import('../../services/errors.ts'),
    import('../../config/config.ts'),
    import('../../services/announcer.ts'),
    import('../../realtime/publisher.ts'),
  ]);
  const opened = await openCliDatabase();
  if (!opened) return 1;
  const { config, logger, db, repos } = opened;
  // A rename tells the live consoles of the renamed zone's open alerts, as the API's does.
  const redis = args.command === 'rename' ? await connectCliRedis(config, 'open consoles learn of the rename at their next session check instead of at once') : null;
  const announcer = redis ? createAnnouncer({ channels: [socketChannel(createAlertPublisher({ redis, queuePrefix: config.queuePrefix, logger }))], logger }) : undefined;
  const zones = createZoneService({ zones: repos.zones, audit: repos.audit, settings: zonesInSettings(config), alerts: repos.alerts, announcer });
  try {
    if (args.command === 'list') {
      for (const z of await zones.list()) {
        if (args.json) process.stdout.write(`${JSON.stringify(z)}\n`);
        else {
          const gap = z.cameras > 0 && z.dispatchers === 0 ? '\tno dispatcher sees its alerts' : '';
          const named = z.namedBy.length > 0 ? `\tnamed in ${z.namedBy.join(', ')}` : '';
          process.stdout.write(`${z.zone ?? '(no zone)'}\tcameras: ${z.cameras}\topen alerts: ${z.openAlerts}\tdispatchers: ${z.dispatchers} (${z.zonedDispatchers} limited to it)${gap}${named}\n`);
        }
      }
      return 0;
    }
    const done = await zones.rename({ from: args.from, to: args.to }, { type: 'SYSTEM', id: 'cli' });
    process.stdout.write(`renamed zone "${done.from}" to "${done.to}"${done.merged ? ' (merged into the existing zone)' : ''}: ${done.cameras} camera(s), ${done.dispatchers} dispatcher(s)\n`);
    if (done.namedBy.length > 0) process.stderr.write(`maskwatch zones rename: ${done.namedBy.join(', ')} still name "${done.from}": change them to "${done.to}" and restart\n`);
    return 0;
  } catch (err) {
    if (err instanceof ServiceError) {
      process.stderr.write(`maskwatch zones ${args.command}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    redis?.disconnect();
    await db.close();
  }
}
