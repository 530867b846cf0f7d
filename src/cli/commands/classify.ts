import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/config.ts';
import { MaskClassifier } from '../../vision/classifier.ts';
import { decodeImage, type DecodedImage } from '../../vision/image.ts';
import { decideFace } from '../../vision/decision.ts';
import { FALLBACK_DECISION } from '../../vision/engine.ts';

const USAGE = `usage: maskwatch classify [--json] [--head FILE] [--threshold P] FILE...
Classifies each whole image as one face crop. Prints one line per file:
  --json   {"file","label":"mask"|"no_mask"|"mask_incorrect","violation","noMaskProbability",
            "maskProbability" (deprecated alias of noMaskProbability),"probabilities":{"mask","no_mask","mask_incorrect"}}
--threshold overrides the head's validated P(no mask) threshold; MASKWATCH_INCORRECT_MASK=violation|ignore
says whether mask_incorrect is a violation. The detector gates do not apply: the image is taken as a face.
Unreadable files print {"file","error"} and the command exits 2 after the others.
`;

export async function run(argv: string[]): Promise<number> {
  let files: string[];
  let json: boolean;
  let headPath: string | undefined;
  let threshold: number | undefined;
  let config;
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, head: { type: 'string' }, threshold: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length === 0) throw new Error('no files given');
    config = loadConfig();
    threshold = values.threshold === undefined ? config.vision.noMaskThreshold : Number(values.threshold);
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) throw new Error(`--threshold must be between 0 and 1, got "${values.threshold}"`);
    files = positionals;
    json = values.json ?? false;
    headPath = values.head;
  } catch (err) {
    process.stderr.write(`maskwatch classify: ${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const classifier = await MaskClassifier.load({ assetsDir: config.assetsDir, headPath, intraOpThreads: config.vision.intraOpThreads });
  const base = classifier.decision ?? FALLBACK_DECISION;
  // A crop is a face by assumption: no detector-score or size gate.
  const rule = { ...base, noMaskThreshold: threshold ?? base.noMaskThreshold, violationFaceScore: 0, violationMinFaceSize: 0 };
  const policy = config.vision.incorrectMaskPolicy;
  let failed = 0;
  try {
    // One file at a time keeps memory flat for long lists; the cost is decode, not the batch.
    for (const file of files) {
      let img: DecodedImage;
      try {
        img = await decodeImage(await readFile(file), { maxPixels: config.ingest.maxFramePixels });
      } catch (err) {
        failed++;
        const error = (err as Error).message;
        process.stdout.write(json ? `${JSON.stringify({ file, error })}\n` : `${file}\terror: ${error}\n`);
        continue;
      }
      const [p] = await classifier.predictProbabilities([img]);
      const { label, violation } = decideFace({ box: [0, 0, img.width, img.height], score: 1 }, p!, rule, policy);
      const r6 = (v: number) => Math.round(v * 1e6) / 1e6;
      const noMaskProbability = r6(p!.no_mask);
      const probabilities = { mask: r6(p!.mask), no_mask: noMaskProbability, mask_incorrect: r6(p!.mask_incorrect) };
      process.stdout.write(
        json
          ? `${JSON.stringify({ file, label, violation, noMaskProbability, maskProbability: noMaskProbability, probabilities })}\n`
          : `${file}\t${label}${violation ? ' (violation)' : ''}\tP(no mask)=${noMaskProbability.toFixed(4)}\tP(mask incorrect)=${probabilities.mask_incorrect.toFixed(4)}\n`,
      );
    }
  } finally {
    await classifier.close();
  }
  return failed > 0 ? 2 : 0;
}
