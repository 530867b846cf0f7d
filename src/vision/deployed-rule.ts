/**
 * The violation rule of this deployment without loading any model: the mask
 * head's validated rule (models/mask-head.json `decision`) with the same
 * overrides the engine applies (MASKWATCH_NO_MASK_THRESHOLD,
 * MASKWATCH_INCORRECT_MASK). The API judges edge agents' detections with it, so
 * an edge face is a violation exactly when a central worker would call it one;
 * the second opinion, which needs the frame, runs on the agent and its reading is
 * judged by the API (ingest-detections.ts).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../paths.ts';
import { resolveDecisionRule, type IncorrectMaskPolicy } from './decision.ts';
import { parseHeadArtifact, type DecisionRule } from './head.ts';

// classifier.ts's DEFAULT_HEAD_PATH, without importing ONNX Runtime into the API process.
const DEFAULT_HEAD_PATH = path.join(REPO_ROOT, 'models', 'mask-head.json');

export async function loadServerDecision(opts: {
  noMaskThreshold?: number;
  incorrectMaskPolicy?: IncorrectMaskPolicy;
  headPath?: string;
}): Promise<{ rule: DecisionRule; policy: IncorrectMaskPolicy }> {
  const headPath = opts.headPath ?? DEFAULT_HEAD_PATH;
  const artifact = parseHeadArtifact(await readFile(headPath, 'utf8'), headPath);
  return { rule: resolveDecisionRule(artifact.decision, { noMaskThreshold: opts.noMaskThreshold }), policy: opts.incorrectMaskPolicy ?? 'violation' };
}
