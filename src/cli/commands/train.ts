import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../../config/config.ts';
import { Backbone, backboneModelPath } from '../../vision/backbone.ts';
import { DEFAULT_HEAD_PATH } from '../../vision/classifier.ts';
import { predictNoMask } from '../../vision/head.ts';
import { classificationMetrics } from '../../vision/evaluation/classification.ts';
import { buildArtifact, trainOnPrepared, type TrainPipelineOptions } from '../../vision/train/pipeline.ts';
import { prepareTrainingData, stderrProgress, type Framing } from '../../vision/train/prepare.ts';
import { DEFAULT_TRAIN_OPTIONS } from '../../vision/train/trainer.ts';

const USAGE = `usage: maskwatch train [options]
  --out FILE          head artifact to write (default models/mask-head.json)
  --copies N          augmented copies per training image (default 4, 0-16)
  --epochs N          (default ${DEFAULT_TRAIN_OPTIONS.epochs})
  --seed N            training seed (default ${DEFAULT_TRAIN_OPTIONS.seed})
  --split-seed N      group split seed (default 7)
  --augment-seed N    augmentation seed (default 11)
  --cache-dir DIR     feature cache (default .cache/)
  --framing MODE      both (default: detected face + run-time margin, and the whole photo) | face | whole
Reads prajna and chandrikadeb7 from MASKWATCH_ASSETS (default ../shared).
`;

function intOpt(v: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${v}"`);
  return n;
}

class UsageError extends Error {}

function framingOpt(v: string | undefined): Framing {
  if (v === undefined) return 'both';
  if (v !== 'face' && v !== 'whole' && v !== 'both') throw new UsageError(`--framing must be "both", "face" or "whole", got "${v}"`);
  return v;
}

export async function run(argv: string[]): Promise<number> {
  let opts: TrainPipelineOptions & { out: string };
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        copies: { type: 'string' },
        epochs: { type: 'string' },
        seed: { type: 'string' },
        'split-seed': { type: 'string' },
        'augment-seed': { type: 'string' },
        'cache-dir': { type: 'string' },
        framing: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const config = loadConfig();
    opts = {
      out: path.resolve(values.out ?? DEFAULT_HEAD_PATH),
      assetsDir: config.assetsDir,
      cacheDir: path.resolve(values['cache-dir'] ?? '.cache'),
      splitSeed: intOpt(values['split-seed'], 'split-seed', 7, 0, 2 ** 31),
      augmentSeed: intOpt(values['augment-seed'], 'augment-seed', 11, 0, 2 ** 31),
      intraOpThreads: config.vision.intraOpThreads === 1 ? 2 : config.vision.intraOpThreads,
      framing: framingOpt(values.framing),
      copies: intOpt(values.copies, 'copies', 4, 0, 16),
      train: {
        ...DEFAULT_TRAIN_OPTIONS,
        epochs: intOpt(values.epochs, 'epochs', DEFAULT_TRAIN_OPTIONS.epochs, 1, 500),
        seed: intOpt(values.seed, 'seed', DEFAULT_TRAIN_OPTIONS.seed, 0, 2 ** 31),
      },
      logger,
      progress: stderrProgress,
    };
  } catch (err) {
    process.stderr.write(`maskwatch train: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  let backbone: Backbone;
  try {
    backbone = await Backbone.load({ modelPath: await backboneModelPath(opts.assetsDir), intraOpThreads: opts.intraOpThreads });
  } catch (err) {
    process.stderr.write(`maskwatch train: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    const started = Date.now();
    const data = await prepareTrainingData(opts, backbone);
    const run = await trainOnPrepared(data, opts, logger);
    const metrics: Record<string, unknown> = {};
    for (const dataset of ['prajna', 'chandrikadeb7']) {
      const val = data.samples.filter((s) => s.split === 'val' && s.dataset === dataset);
      const m = classificationMetrics(val.map((s) => s.label), predictNoMask(run.weights, val.map((s) => s.features)));
      metrics[`val/${dataset}`] = m;
      logger.info({ dataset, accuracy: m.accuracy, balancedAccuracy: m.balancedAccuracy, rocAuc: m.rocAuc }, 'validation');
    }
    const artifact = buildArtifact(run, data, opts, metrics);
    artifact.training.seconds = Math.round((Date.now() - started) / 1000);
    await mkdir(path.dirname(opts.out), { recursive: true });
    await writeFile(opts.out, `${JSON.stringify(artifact, null, 1)}\n`);
    logger.info({ out: opts.out, seconds: artifact.training.seconds, bestEpoch: run.bestEpoch }, 'wrote mask head');
    return 0;
  } catch (err) {
    process.stderr.write(`maskwatch train: ${(err as Error).message}\n`);
    logger.debug({ err }, 'train failed');
    return 1;
  } finally {
    await backbone.close();
  }
}
