/**
 * `maskwatch <command>`: wiring only. Each command lives in ./commands/<name>.ts
 * and exports `run(argv: string[]): Promise<number>` (the exit code); it is
 * imported lazily so `maskwatch detect` never loads the HTTP stack and vice versa.
 */
const commands: Record<string, { module: string; summary: string }> = {
  start: { module: 'start', summary: 'run API + worker(s) + dashboard (SQLite and local Redis by default)' },
  api: { module: 'api', summary: 'run one API instance (HTTP, Socket.IO, dashboard)' },
  worker: { module: 'worker', summary: 'run a detection worker process (--concurrency N)' },
  doctor: { module: 'doctor', summary: 'check this deployment (database, Redis, clocks, workers, data folder, secret key, models) and say how to fix it' },
  audit: { module: 'audit', summary: 'the audit trail: audit verify (its seals) | audit export (JSON Lines) | audit seal | audit prune --before DATE --archive FILE' },
  evidence: { module: 'evidence', summary: "evidence packages: evidence verify FILE [--offline] [--public-key PEM] [--passphrase-stdin] | evidence key (the signing key to publish)" },
  zones: { module: 'zones', summary: 'camera zones: zones list [--json] (who sees which) | zones rename FROM TO' },
  users: { module: 'users', summary: 'manage users: users add|list|disable|enable|set-role|set-unit|reset-password|revoke-sessions|delete' },
  'scim-token': { module: 'scim-token', summary: 'a new token for the directory\'s SCIM provisioning, and its hash for MASKWATCH_SCIM_TOKEN_SHA256' },
  detect: { module: 'detect', summary: 'detect faces and masks: detect --json FILE|DIR... [--files-from FILE|-]' },
  classify: { module: 'classify', summary: 'classify whole images as face crops: classify --json FILE|DIR... [--files-from FILE|-]' },
  train: { module: 'train', summary: 'train the mask classifier head' },
  evaluate: { module: 'evaluate', summary: 'evaluate classifier and detector, write reports/' },
  agent: { module: 'agent', summary: 'camera agent: agent --server URL --key KEY --source DIR|VIDEO|rtsp://… --fps 2' },
  simulate: { module: 'simulate', summary: 'virtual cameras for demos / load: simulate --server URL --cameras N --fps F --images DIR' },
  'models:fetch': { module: 'models-fetch', summary: 'resolve and verify third-party model files' },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: maskwatch <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  const [name, ...argv] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`maskwatch: unknown command "${name}"\n\n${usage()}`);
    return 1;
  }
  // Server processes write faces, frames and the database: owner-only by default, whatever writes them.
  if (name === 'start' || name === 'api' || name === 'worker') process.umask(0o077);
  const mod = (await import(`./commands/${command.module}.ts`)) as { run(argv: string[]): Promise<number> };
  return mod.run(argv);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`maskwatch: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
