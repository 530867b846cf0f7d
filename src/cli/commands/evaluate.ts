import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from '../../config/config.ts';
import { DEFAULT_HEAD_PATH } from '../../vision/classifier.ts';

const USAGE = `usage: maskwatch evaluate [options]
  --head FILE        head artifact (default models/mask-head.json)
  --out DIR          report folder (default reports/)
The report step of the protocol: runs the engine with the head's validated
decision rule on the val scenes (reference) and the REPORT scenes of
kaggle-scenes-dev (models/scene-split.json), with 95 % bootstrap intervals,
and writes DIR/evaluation.md, DIR/evaluation.json and DIR/evaluation.png.
Exit code 1 when a target is missed on the report split.
`;

export async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { head: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`maskwatch evaluate: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const config = loadConfig();
  const headPath = path.resolve(values.head ?? DEFAULT_HEAD_PATH);
  if (!existsSync(headPath)) {
    process.stderr.write(`maskwatch evaluate: no head at ${headPath} — run \`maskwatch train\` first\n`);
    return 1;
  }
  const outDir = path.resolve(values.out ?? 'reports');
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
  const { createVisionEngine } = await import('../../vision/engine.ts');
  const { FALLBACK_DECISION } = await import('../../vision/decision.ts');
  const { MaskClassifier } = await import('../../vision/classifier.ts');
  const { decodeForTraining } = await import('../../vision/train/features.ts');
  const { decideFace } = await import('../../vision/decision.ts');
  const { runProtocolReport } = await import('../../vision/protocol/report-run.ts');
  const { protocolMarkdown, protocolSvg } = await import('../../vision/protocol/report-markdown.ts');
  const { default: sharp } = await import('sharp');
  const { progressBar } = await import('../../vision/train/progress.ts');
  // The evaluated engine is the product's, with the head's own rule: no overrides from the environment.
  const engine = await createVisionEngine({
    assetsDir: config.assetsDir,
    headPath,
    faceScoreThreshold: config.vision.faceScoreThreshold,
    minFaceSize: config.vision.minFaceSize,
    maxPixels: config.ingest.maxFramePixels,
    intraOpThreads: Math.max(2, config.vision.intraOpThreads),
    incorrectMaskPolicy: 'violation',
    // The second opinion is part of the deployed product when enabled (MASKWATCH_SECOND_OPINION), so it is evaluated with it.
    secondOpinion: config.vision.secondOpinion,
    logger,
  });
  const classifier = await MaskClassifier.load({ assetsDir: config.assetsDir, headPath, intraOpThreads: Math.max(2, config.vision.intraOpThreads) });
  try {
    const rule = { ...(classifier.decision ?? FALLBACK_DECISION), violationFaceScore: 0, violationMinFaceSize: 0 };
    const bars = new Map<string, ReturnType<typeof progressBar>>();
    const report = await runProtocolReport({
      assetsDir: config.assetsDir,
      engine,
      logger,
      classifyCrop: async (file) => {
        const img = await decodeForTraining(file);
        const [p] = await classifier.predictProbabilities([img]);
        return decideFace({ box: [0, 0, img.width, img.height], score: 1 }, p!, rule, 'violation').label;
      },
      onProgress: (label, done, total) => {
        let bar = bars.get(label);
        if (!bar) bars.set(label, (bar = progressBar(process.stderr, label, total)));
        bar.tick();
        if (done === total) bar.done();
      },
    });
    const head = classifier.artifact;
    const generatedAt = new Date().toISOString();
    await mkdir(outDir, { recursive: true });
    const rel = path.relative(process.cwd(), headPath);
    await writeFile(path.join(outDir, 'evaluation.json'), `${JSON.stringify({ generatedAt, head: { path: rel, decision: head.decision, training: head.training }, secondOpinion: config.vision.secondOpinion, ...report }, null, 2)}\n`);
    await writeFile(path.join(outDir, 'evaluation.md'), protocolMarkdown(report, head, { generatedAt, headPath: rel, secondOpinion: config.vision.secondOpinion }));
    await sharp(Buffer.from(protocolSvg(report))).png().toFile(path.join(outDir, 'evaluation.png'));
    for (const t of report.targets) logger.info({ target: t.name, value: t.value, lo: t.lo, hi: t.hi, required: `${t.op} ${t.target}`, met: t.met }, 'target');
    const missed = report.targets.filter((t) => !t.met);
    logger.info({ outDir, missed: missed.length }, 'wrote evaluation report');
    if (missed.length) {
      process.stderr.write(`maskwatch evaluate: ${missed.length} target(s) missed on the report split: ${missed.map((t) => `${t.name} = ${t.value === null ? 'n/a' : t.value.toFixed(3)} (needs ${t.op} ${t.target})`).join('; ')}\n`);
      return 1;
    }
    return 0;
  } catch (err) {
    process.stderr.write(`maskwatch evaluate: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await engine.close();
    await classifier.close();
  }
}
