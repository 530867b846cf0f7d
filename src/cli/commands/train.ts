import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../../config/config.ts';
import { DEFAULT_HEAD_PATH } from '../../vision/classifier.ts';
import { parseDetectorKind } from '../../vision/detector/factory.ts';

const USAGE = `usage: maskwatch train [options]
  --out FILE          head artifact to write (default models/mask-head.json)
  --copies N          augmented copies per training face (default 6, chosen on validation; 0-16)
  --augment-seed N    augmentation seed (default 11)
  --cache-dir DIR     feature cache (default .cache/)
  --backbone FORM     backbone form the head is trained on: float (default; the int8 file rewritten into
                      float ops at load, CPU-independent features) or int8 (ORT int8 kernels)
  --epochs N          epochs per variant (default 15; the epoch with the lowest validation loss is kept)
  --rechoose FILE     keep FILE's trained weights, redo only the choice on the val scenes, write --out
  --variants LIST     comma-separated head variants to compare on validation (default h64,h64-wd1e-3,h64x5,
                      h128,h64-photos,h128-photos; h64x5: five seeds averaged in logit space; also
                      h64-synthetic: + synthetic masks placed with YuNet's landmarks, h64-background:
                      + non-face detections as "not a violation")
Trains the 3-class head (mask, no_mask, mask_incorrect) on the TRAIN scenes of
kaggle-scenes-dev (models/scene-split.json) and chooses the variant, the class
thresholds and the violation gates on the VAL scenes. The REPORT scenes are
never read (only \`maskwatch evaluate\` reads them).
`;

class UsageError extends Error {}

/** Augmented copies per training face: 2 and 6 compared on val + out-of-fold loss, 10 on val loss (reports/error-analysis-val.md); 6 was lowest. */
const DEFAULT_COPIES = 6;

function intOpt(v: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer between ${min} and ${max}, got "${v}"`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        copies: { type: 'string' },
        'augment-seed': { type: 'string' },
        'cache-dir': { type: 'string' },
        variants: { type: 'string' },
        epochs: { type: 'string' },
        backbone: { type: 'string' },
        rechoose: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`maskwatch train: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  // Heavy modules only now: --help and usage errors answer without them.
  const { DEFAULT_VARIANTS, EXTRA_VARIANTS, rechoose, trainOnScenes } = await import('../../vision/train/scene-train.ts');
  const { stderrProgress } = await import('../../vision/train/progress.ts');
  const { DEFAULT_BACKBONE_FORM, parseBackboneForm } = await import('../../vision/backbone.ts');
  let opts: Parameters<typeof trainOnScenes>[0];
  let out: string;
  try {
    const config = loadConfig();
    const names = values.variants?.split(',').map((s) => s.trim()).filter(Boolean);
    const epochs = intOpt(values.epochs, 'epochs', 15, 1, 500);
    const picked = names ? names.map((n) => {
      const known = [...DEFAULT_VARIANTS, ...EXTRA_VARIANTS];
      const v = known.find((d) => d.name === n);
      if (!v) throw new UsageError(`unknown variant "${n}"; known: ${known.map((d) => d.name).join(', ')}`);
      return v;
    }) : DEFAULT_VARIANTS;
    const variants = picked.map((v) => ({ ...v, epochs }));
    out = path.resolve(values.out ?? DEFAULT_HEAD_PATH);
    opts = {
      assetsDir: config.assetsDir,
      cacheDir: path.resolve(values['cache-dir'] ?? '.cache'),
      detector: parseDetectorKind(process.env.MASKWATCH_DETECTOR ?? 'yunet-s'),
      faceScoreThreshold: config.vision.faceScoreThreshold,
      minFaceSize: config.vision.minFaceSize,
      maxPixels: config.ingest.maxFramePixels,
      intraOpThreads: Math.max(2, config.vision.intraOpThreads),
      backboneForm: values.backbone === undefined ? DEFAULT_BACKBONE_FORM : parseBackboneForm(values.backbone, '--backbone'),
      copies: intOpt(values.copies, 'copies', DEFAULT_COPIES, 0, 16),
      augmentSeed: intOpt(values['augment-seed'], 'augment-seed', 11, 0, 2 ** 31),
      variants,
      logger,
      progress: stderrProgress,
    };
  } catch (err) {
    process.stderr.write(`maskwatch train: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  try {
    if (values.rechoose) {
      const { parseHeadArtifact } = await import('../../vision/head.ts');
      const { copyFile, readFile } = await import('node:fs/promises');
      const { dirname, join, resolve } = await import('node:path');
      const from = dirname(resolve(values.rechoose));
      const artifact = await rechoose(opts, parseHeadArtifact(await readFile(values.rechoose, 'utf8'), values.rechoose), values.rechoose);
      // The fine-tuned backbone tail travels with the head: its file is named relative to the head's folder.
      const tail = artifact.backbone.tail;
      if (tail && dirname(resolve(out)) !== from) await copyFile(join(from, tail.file), join(dirname(resolve(out)), tail.file));
      await writeFile(out, `${JSON.stringify(artifact, null, 1)}\n`);
      logger.info({ out, decision: artifact.decision }, 'wrote mask head (decision re-chosen)');
      return 0;
    }
    const started = Date.now();
    const { artifact } = await trainOnScenes(opts);
    artifact.training.seconds = Math.round((Date.now() - started) / 1000);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(artifact, null, 1)}\n`);
    logger.info({ out, seconds: artifact.training.seconds, decision: artifact.decision }, 'wrote mask head');
    return 0;
  } catch (err) {
    process.stderr.write(`maskwatch train: ${(err as Error).message}\n`);
    logger.debug({ err }, 'train failed');
    return 1;
  }
}
