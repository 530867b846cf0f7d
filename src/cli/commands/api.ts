/** `maskwatch api [--port P]`: one API instance, no workers (scale out behind a load balancer). */
import { parseArgs } from 'node:util';
import { intOption } from './start.ts';

const USAGE = `usage: maskwatch api [--port PORT]
Runs one API instance (HTTP + Socket.IO + dashboard) without workers. Several
instances can share one database and Redis: alerts reach sockets on all of them.
`;

export async function run(argv: string[]): Promise<number> {
  const env: Record<string, string> = {};
  try {
    const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (values.port !== undefined) env.PORT = String(intOption('--port', values.port, 3000, 0, 65535));
  } catch (err) {
    process.stderr.write(`maskwatch api: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  // The server stack loads only now: --help and argument errors answer at once.
  const { serve } = await import('../../system/serve.ts');
  return serve({ workers: 0, concurrency: 1, env });
}
