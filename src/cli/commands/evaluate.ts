import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../../config/config.ts';
import { DEFAULT_HEAD_PATH } from '../../vision/classifier.ts';
import { evaluationMarkdown, evaluationSvg, svgToPng, type ReportInput } from '../../vision/evaluation/report.ts';
import { runEvaluation } from '../../vision/train/evaluation-run.ts';
import { progressBar } from '../../vision/train/progress.ts';

const USAGE = `usage: maskwatch evaluate [options]
  --head FILE        head artifact (default models/mask-head.json)
  --out DIR          report folder (default reports/)
  --cache-dir DIR    feature cache (default .cache/)
  --skip-scenes      skip the detector section (kaggle-scenes-dev)
Writes DIR/evaluation.md, DIR/evaluation.json and DIR/evaluation.png.
`;

/** Detector + classifier on kaggle-scenes-dev, through the detector engineer's evaluateScenes. */
async function runScenes(assetsDir: string, headPath: string, logger: pino.Logger): Promise<unknown> {
  const config = loadConfig();
  const { createVisionEngine } = await import('../../vision/engine.ts');
  const { evaluateScenes } = await import('../../vision/evaluation/detection.ts');
  const engine = await createVisionEngine({
    assetsDir,
    headPath,
    faceScoreThreshold: config.vision.faceScoreThreshold,
    noMaskThreshold: config.vision.noMaskThreshold,
    minFaceSize: config.vision.minFaceSize,
    maxPixels: config.ingest.maxFramePixels,
    intraOpThreads: Math.max(2, config.vision.intraOpThreads),
    logger,
  });
  try {
    const scenesDir = path.join(assetsDir, 'datasets', 'kaggle-scenes-dev');
    let bar: ReturnType<typeof progressBar> | undefined;
    const result = await evaluateScenes(engine, scenesDir, {
      onProgress: (done, total) => {
        bar ??= progressBar(process.stderr, 'kaggle-scenes-dev', total);
        bar.tick();
        if (done === total) bar.done();
      },
    });
    return result;
  } finally {
    await engine.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  let values;
  let config;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        head: { type: 'string' },
        out: { type: 'string' },
        'cache-dir': { type: 'string' },
        'skip-scenes': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`maskwatch evaluate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const headPath = path.resolve(values.head ?? DEFAULT_HEAD_PATH);
  if (!existsSync(headPath)) {
    process.stderr.write(`maskwatch evaluate: no head at ${headPath} — run \`maskwatch train\` first\n`);
    return 1;
  }
  const outDir = path.resolve(values.out ?? 'reports');
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  try {
    const result = await runEvaluation({
      assetsDir: config.assetsDir,
      cacheDir: path.resolve(values['cache-dir'] ?? '.cache'),
      headPath,
      intraOpThreads: Math.max(2, config.vision.intraOpThreads),
      logger,
      progress: (label, total) => progressBar(process.stderr, label, total),
      scenes: values['skip-scenes'] ? undefined : (h) => runScenes(config.assetsDir, h, logger),
    });
    const byId = (id: string) => result.sets.find((s) => s.id === id)?.metrics ?? null;
    const report: ReportInput = {
      generatedAt: new Date().toISOString(),
      ...result,
      head: { ...result.head, path: path.relative(process.cwd(), result.head.path) },
      targets: [
        { name: 'kaggle-face-crops-dev balanced accuracy', target: 0.93, value: byId('kaggle-face-crops-dev')?.balancedAccuracy ?? null },
        { name: 'seed group-split test accuracy', target: 0.98, value: byId('seed-group-test')?.accuracy ?? null },
      ],
    };
    await mkdir(outDir, { recursive: true });
    // JSON keeps the figures, not the per-image scores (those only feed the plot).
    const json = { ...report, sets: report.sets.map(({ labels: _l, scores: _s, ...rest }) => rest) };
    await writeFile(path.join(outDir, 'evaluation.json'), `${JSON.stringify(json, null, 2)}\n`);
    await writeFile(path.join(outDir, 'evaluation.md'), evaluationMarkdown(report));
    await writeFile(path.join(outDir, 'evaluation.png'), await svgToPng(evaluationSvg(report.sets, 'MaskWatch mask classifier — confusion matrices and PR curves')));
    for (const t of report.targets) logger.info(t, 'target');
    logger.info({ outDir }, 'wrote evaluation report');
    return 0;
  } catch (err) {
    process.stderr.write(`maskwatch evaluate: ${(err as Error).message}\n`);
    return 1;
  }
}
