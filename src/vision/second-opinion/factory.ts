import { AIZOO_SECOND_OPINION_RULE, DEFAULT_SECOND_OPINION, type SecondOpinionKind } from '../decision.ts';
import { loadAizooSecondOpinion, type SecondOpinion } from './review.ts';

export type { SecondOpinion } from './review.ts';
export type { SecondOpinionKind } from '../decision.ts';

/** The configured second opinion, loaded (verified assets), or undefined when off. */
export async function loadSecondOpinion(opts: { assetsDir: string; kind?: SecondOpinionKind; intraOpThreads?: number }): Promise<SecondOpinion | undefined> {
  const kind = opts.kind ?? DEFAULT_SECOND_OPINION;
  if (kind === 'off') return undefined;
  return loadAizooSecondOpinion({ assetsDir: opts.assetsDir, rule: AIZOO_SECOND_OPINION_RULE, intraOpThreads: opts.intraOpThreads });
}
