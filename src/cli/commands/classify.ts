import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { DecodedImage } from '../../vision/image.ts';
import { collectInputFiles, fileError, InputArgumentError } from '../inputs.ts';
import { decideFace, FALLBACK_DECISION } from '../../vision/decision.ts';

// The classifier (ORT, sharp) is imported inside run(), after the arguments
// are checked: `--help` and argument errors answer without loading it.

const USAGE = `usage: maskwatch classify [--json] [--head FILE] [--threshold P] [--files-from FILE|-] [FILE|DIR]...
Directories are walked recursively for .jpg/.jpeg/.png/.webp files (sorted); --files-from reads one
path per line from FILE, or from standard input with -. Any number of files works.
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
      options: {
        json: { type: 'boolean' },
        head: { type: 'string' },
        threshold: { type: 'string' },
        'files-from': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    if (positionals.length === 0 && values['files-from'] === undefined) throw new Error('no files given');
    if (values.threshold !== undefined && !(Number(values.threshold) >= 0 && Number(values.threshold) <= 1)) {
      throw new Error(`--threshold must be between 0 and 1, got "${values.threshold}"`);
    }
    files = await collectInputFiles(positionals, values['files-from']);
    if (files.length === 0) throw new InputArgumentError('no files given (directories are searched for .jpg, .jpeg, .png, .webp)');
    config = (await import('../../config/config.ts')).loadConfig();
    threshold = values.threshold === undefined ? config.vision.noMaskThreshold : Number(values.threshold);
    json = values.json ?? false;
    headPath = values.head;
  } catch (err) {
    process.stderr.write(`maskwatch classify: ${(err as Error).message}\n${err instanceof InputArgumentError ? '' : `\n${USAGE}`}`);
    return 1;
  }
  const [{ MaskClassifier }, { decodeImage }] = await Promise.all([import('../../vision/classifier.ts'), import('../../vision/image.ts')]);
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
        const error = fileError(err);
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
