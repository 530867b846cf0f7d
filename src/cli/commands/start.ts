/** `maskwatch start [--workers N] [--concurrency N] [--port P]`: API + worker processes + dashboard. */
import { parseArgs } from 'node:util';

const USAGE = `usage: maskwatch start [--workers N] [--concurrency N] [--port PORT]
Runs the API (HTTP + Socket.IO + dashboard) and N detection worker processes
(default 1), with SQLite in MASKWATCH_DATA_DIR and Redis at REDIS_URL by default.
First start: set MASKWATCH_ADMIN_USER and MASKWATCH_ADMIN_PASSWORD to create the admin.
`;

export function intOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  return v;
}

export async function run(argv: string[]): Promise<number> {
  let workers: number;
  let concurrency: number;
  const env: Record<string, string> = {};
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        workers: { type: 'string' },
        concurrency: { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    workers = intOption('--workers', values.workers, 1, 0, 64);
    concurrency = intOption('--concurrency', values.concurrency, 1, 1, 64);
    if (values.port !== undefined) env.PORT = String(intOption('--port', values.port, 3000, 0, 65535));
  } catch (err) {
    process.stderr.write(`maskwatch start: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  // The server stack loads only now: --help and argument errors answer at once.
  const { serve } = await import('../../system/serve.ts');
  return serve({ workers, concurrency, env });
}
