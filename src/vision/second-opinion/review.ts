import type { SecondOpinionRule, SecondOpinionVerdict } from '../decision.ts';
import type { DecodedImage } from '../image.ts';
import type { Box } from '../types.ts';
import { AizooDetector, bestMatch, regionAround } from './aizoo.ts';

/** What the engine asks of a second opinion: a verdict on one accused face of a decoded frame. */
export interface SecondOpinion {
  readonly name: string;
  readonly rule: SecondOpinionRule;
  review(frame: DecodedImage, box: Box): Promise<SecondOpinionVerdict>;
  close(): Promise<void>;
}

/** Lowest AIZOO class score kept before matching: low, so a matched face almost always has a reading. */
export const AIZOO_MIN_SCORE = 0.1;

/** AIZOO's reading of the region around `box` (what the engine and the val script both use). */
export async function aizooReview(detector: AizooDetector, frame: DecodedImage, box: Box, rule: Pick<SecondOpinionRule, 'regionScale' | 'minIoU'>) {
  const region = regionAround(box, frame.width, frame.height, rule.regionScale);
  const match = bestMatch(await detector.detect(frame, region, AIZOO_MIN_SCORE), box, rule.minIoU);
  return { noMask: match ? match.noMask : null, mask: match?.mask ?? null };
}

export async function loadAizooSecondOpinion(opts: { assetsDir: string; rule: SecondOpinionRule; intraOpThreads?: number }): Promise<SecondOpinion> {
  const detector = await AizooDetector.load(opts);
  return {
    name: 'aizoo',
    rule: opts.rule,
    async review(frame, box) {
      return { noMask: (await aizooReview(detector, frame, box, opts.rule)).noMask };
    },
    close: () => detector.close(),
  };
}
