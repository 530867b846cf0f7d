import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { collectInputFiles, fileError, InputArgumentError } from '../inputs.ts';
import { parseDetectorKind } from '../../vision/detector/kinds.ts';

// Models, sharp, ORT and pino are imported inside run(), after the arguments
// are checked: `--help` and argument errors answer without loading them.

const USAGE = `usage: maskwatch detect --json [--face-score S] [--no-mask-threshold T] [--detector yunet-s|yunet-n|yunet-640|ultraface|yunet-s+n]
                       [--files-from FILE|-] [FILE|DIR]...
Directories are walked recursively for .jpg/.jpeg/.png/.webp files (sorted); --files-from reads one
path per line from FILE, or from standard input with -. Any number of files works.
Prints one JSON line per file: {"file","width","height","faces":[{"box":[x,y,w,h],"score","label","violation",
  "noMaskProbability","maskProbability" (deprecated alias),"probabilities":{"mask","no_mask","mask_incorrect"}}]}
label is "mask" | "no_mask" | "mask_incorrect"; violation follows the gates chosen on validation and MASKWATCH_INCORRECT_MASK.
or {"file","error"} for a file that cannot be read (exit code 2 at the end). Logs go to stderr.
Config from the environment (MASKWATCH_ASSETS, MASKWATCH_FACE_SCORE, MASKWATCH_NO_MASK_THRESHOLD, MASKWATCH_DETECTOR, ...).
`;

function unit(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!(v >= 0 && v <= 1)) throw new Error(`${name} must be a number between 0 and 1, got "${raw}"`);
  return v;
}

export async function run(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let files: string[];
  try {
    ({ values, positionals: files } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        'face-score': { type: 'string' },
        'no-mask-threshold': { type: 'string' },
        detector: { type: 'string' },
        'files-from': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`maskwatch detect: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let faceScore: number | undefined;
  let noMaskThreshold: number | undefined;
  const detectorRaw = (values.detector as string | undefined) ?? process.env.MASKWATCH_DETECTOR;
  try {
    faceScore = unit('--face-score', values['face-score'] as string | undefined);
    noMaskThreshold = unit('--no-mask-threshold', values['no-mask-threshold'] as string | undefined);
    if (detectorRaw) parseDetectorKind(detectorRaw);
    files = await collectInputFiles(files, values['files-from'] as string | undefined);
  } catch (err) {
    process.stderr.write(`maskwatch detect: ${(err as Error).message}\n${err instanceof InputArgumentError ? '' : USAGE}`);
    return 1;
  }
  if (files.length === 0) {
    process.stderr.write(`maskwatch detect: no input files (directories are searched for .jpg, .jpeg, .png, .webp)\n${USAGE}`);
    return 1;
  }
  const [{ loadConfig }, { default: pino }, { createVisionEngine }] = await Promise.all([
    import('../../config/config.ts'),
    import('pino'),
    import('../../vision/engine.ts'),
  ]);
  const config = loadConfig();
  // Logs to stderr so stdout stays pure JSON lines.
  const logger = pino({ level: config.logLevel, name: 'detect' }, pino.destination(2));
  const engine = await createVisionEngine({
    assetsDir: config.assetsDir,
    faceScoreThreshold: faceScore ?? config.vision.faceScoreThreshold,
    noMaskThreshold: noMaskThreshold ?? config.vision.noMaskThreshold,
    incorrectMaskPolicy: config.vision.incorrectMaskPolicy,
    secondOpinion: config.vision.secondOpinion,
    minFaceSize: config.vision.minFaceSize,
    maxPixels: config.ingest.maxFramePixels,
    intraOpThreads: config.vision.intraOpThreads,
    detector: detectorRaw ? parseDetectorKind(detectorRaw) : undefined,
    logger,
  });
  let failed = 0;
  try {
    for (const file of files) {
      let line: string;
      try {
        const result = await engine.analyzeFrame(await readFile(file));
        // Each file is analysed on its own (nothing reused, no agent upload): the documented line has neither `reused` nor `secondOpinion`.
        line = JSON.stringify({ file, ...result, faces: result.faces.map(({ reused: _reused, secondOpinion: _secondOpinion, ...face }) => face) });
      } catch (err) {
        failed += 1;
        const message = fileError(err);
        logger.warn({ file, err: message }, 'cannot analyse file');
        line = JSON.stringify({ file, error: message });
      }
      if (!process.stdout.write(`${line}\n`)) await new Promise((r) => process.stdout.once('drain', r));
    }
  } finally {
    await engine.close();
  }
  logger.info({ files: files.length, failed }, 'detect finished');
  return failed > 0 ? 2 : 0;
}
