/**
 * `maskwatch agent --server URL --key KEY --source <folder|video|rtsp://…> [--fps 2] [--analyze]`:
 * one camera's agent; with --analyze it runs the vision engine on site and uploads detections only. Exit codes: 0 stopped / source ended, 1 bad usage or
 * source error, 2 the server refused the key (401).
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Frame } from '../../agent/camera-agent.ts';
import type { Logger } from 'pino';
import type { VisionEngine } from '../../vision/types.ts';

/** The worker's engine and settings, on the camera's host (imported lazily: a frame-only agent never loads ONNX Runtime). */
async function loadEdgeEngine(logger: Logger): Promise<VisionEngine> {
  const [{ loadConfig }, { visionEngineOptions }, { createVisionEngine }] = await Promise.all([
    import('../../config/config.ts'),
    import('../../config/vision-engine.ts'),
    import('../../vision/engine.ts'),
  ]);
  // The second opinion (MASKWATCH_SECOND_OPINION) runs here too: its reading travels with each accused
  // face and the API applies the deployed rule to it, so edge and central alerts agree.
  return createVisionEngine(visionEngineOptions(loadConfig(), { logger }));
}

const USAGE = `usage: maskwatch agent --server URL --key KEY --source SOURCE [options]
  --server URL        MaskWatch API, e.g. http://127.0.0.1:3000 (env MASKWATCH_SERVER)
  --key KEY           the camera's API key (env MASKWATCH_CAMERA_KEY; prefer it: argv is visible in ps)
  --source SOURCE     a folder of images (sent in name order), a video file, or rtsp://… (decoded with ffmpeg)
  --fps N             frames per second to send (default 2)
  --loop              replay a folder / video file forever
  --spool DIR         where frames wait while the server is unreachable (default: OS temp dir, per key)
  --spool-max N       frames the spool keeps; when full the oldest is dropped (default 600)
  --stats-interval S  seconds between stats lines (default 10)
  --analyze           edge analysis: run the vision engine here (models from MASKWATCH_ASSETS, same
                      MASKWATCH_* vision settings as a worker) and upload only detections, plus JPEG crops
                      of violating faces with other faces blurred, to POST /api/v1/detections. Frames never
                      leave this host (not even the spool). A host slower than --fps skips frames (counted).
Logs are JSON lines on stdout (LOG_LEVEL=debug also logs every accepted frame).
`;

export function numberOption(name: string, raw: string | undefined, fallback: number, min: number, max: number, integer = false): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw new Error(`${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, got "${raw}"`);
  }
  return v;
}

export function serverOption(raw: string | undefined): string {
  if (!raw) throw new Error('--server is required (or MASKWATCH_SERVER)');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`--server is not a URL: "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--server must be http(s)://, got "${raw}"`);
  return u.origin;
}

export async function run(argv: string[]): Promise<number> {
  let opts;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        server: { type: 'string' },
        key: { type: 'string' },
        source: { type: 'string' },
        fps: { type: 'string' },
        loop: { type: 'boolean' },
        spool: { type: 'string' },
        'spool-max': { type: 'string' },
        'stats-interval': { type: 'string' },
        analyze: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const key = values.key ?? process.env.MASKWATCH_CAMERA_KEY;
    if (!key) throw new Error('--key is required (or MASKWATCH_CAMERA_KEY)');
    if (!values.source) throw new Error('--source is required');
    opts = {
      server: serverOption(values.server ?? process.env.MASKWATCH_SERVER),
      key,
      source: values.source,
      fps: numberOption('--fps', values.fps, 2, 0.01, 120),
      loop: values.loop ?? false,
      // Per key, so two agents on one machine never share a spool.
      spool: path.resolve(values.spool ?? path.join(os.tmpdir(), 'maskwatch-spool', createHash('sha256').update(key).digest('hex').slice(0, 16))),
      spoolMax: numberOption('--spool-max', values['spool-max'], 600, 1, 10_000_000, true),
      statsIntervalMs: numberOption('--stats-interval', values['stats-interval'], 10, 0, 86_400) * 1000,
      analyze: values.analyze ?? false,
    };
  } catch (err) {
    process.stderr.write(`maskwatch agent: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }

  // The agent's modules (sources, spool, uploader, vision) load only now: --help and argument errors answer at once.
  const [{ createCameraAgent }, { openSource, redactUrl }, { openSpool }, { createLogger }, { createEdgeAnalyzer }] = await Promise.all([
    import('../../agent/camera-agent.ts'),
    import('../../agent/sources.ts'),
    import('../../agent/spool.ts'),
    import('../../system/logger.ts'),
    import('../../agent/edge-analysis.ts'),
  ]);
  const logger = createLogger({ logLevel: process.env.LOG_LEVEL || 'info' }, { service: 'agent' });
  const stopSource = new AbortController();
  let source: AsyncIterable<Frame>;
  try {
    // Before the spool: a wrong --source fails fast and leaves nothing on disk.
    source = await openSource(opts.source, { fps: opts.fps, loop: opts.loop, signal: stopSource.signal, logger });
  } catch (err) {
    process.stderr.write(`maskwatch agent: ${(err as Error).message}\n`);
    return 1;
  }
  let engine: VisionEngine | undefined;
  if (opts.analyze) {
    try {
      engine = await loadEdgeEngine(logger);
    } catch (err) {
      process.stderr.write(`maskwatch agent: cannot load the vision engine for --analyze: ${(err as Error).message}\n`);
      stopSource.abort();
      return 1;
    }
  }
  const spool = await openSpool(opts.spool, opts.spoolMax);
  const agent = createCameraAgent({
    server: opts.server,
    apiKey: opts.key,
    spool,
    logger,
    statsIntervalMs: opts.statsIntervalMs,
    analyze: engine ? createEdgeAnalyzer(engine) : undefined,
  });
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'stopping: finishing in-flight frames (unsent ones stay in the spool)');
    process.once('SIGTERM', () => process.exit(130));
    process.once('SIGINT', () => process.exit(130));
    stopSource.abort();
    void agent.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  void agent.done.then(() => stopSource.abort());

  logger.info(
    { server: opts.server, source: redactUrl(opts.source), fps: opts.fps, spool: opts.spool, spoolMax: opts.spoolMax, spooled: spool.size(), analyze: opts.analyze },
    'agent started',
  );
  try {
    await agent.run(source);
  } catch (err) {
    await agent.stop();
    process.stderr.write(`maskwatch agent: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await engine?.close();
  }
  if (agent.unauthorizedError) {
    process.stderr.write(`maskwatch agent: ${agent.unauthorizedError.message}\n`);
    return 2;
  }
  return 0;
}
