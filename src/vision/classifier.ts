import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Backbone, backboneModelPath, resizeToInput } from './backbone.ts';
import { headProbabilities, headWeightsFromArtifact, parseHeadArtifact, type DecisionRule, type HeadArtifact, type HeadWeights } from './head.ts';
import type { FaceProbabilities } from './decision.ts';
import type { DecodedImage } from './image.ts';
import { RESIZE_METHOD } from './resize.ts';
import { REPO_ROOT } from '../paths.ts';

/** The committed head, relative to the repository root. */
export const DEFAULT_HEAD_PATH = path.join(REPO_ROOT, 'models', 'mask-head.json');

/** Crops per backbone call: bounds memory (batch × 602 KB input) while keeping ORT busy. */
const BATCH = 8;

/**
 * Face crop → P(mask), P(no mask), P(mask incorrect). Frozen MobileNetV2 features (ONNX Runtime) and the
 * trained head in plain JS.
 */
export class MaskClassifier {
  private constructor(
    private readonly backbone: Backbone,
    private readonly weights: HeadWeights,
    readonly artifact: Omit<HeadArtifact, 'weights'>,
  ) {}

  static async load(opts: { assetsDir: string; headPath?: string; intraOpThreads?: number }): Promise<MaskClassifier> {
    const headPath = opts.headPath ?? DEFAULT_HEAD_PATH;
    let json: string;
    try {
      json = await readFile(headPath, 'utf8');
    } catch (err) {
      throw new Error(`mask head not readable at ${headPath} (run \`maskwatch train\`): ${(err as Error).message}`);
    }
    const artifact = parseHeadArtifact(json, headPath);
    const weights = headWeightsFromArtifact(artifact);
    if (artifact.input.resize !== RESIZE_METHOD) {
      throw new Error(`mask head ${headPath} was trained with resize "${artifact.input.resize}", this build resizes with "${RESIZE_METHOD}": retrain`);
    }
    const backbone = await Backbone.load({ modelPath: await backboneModelPath(opts.assetsDir), intraOpThreads: opts.intraOpThreads });
    if (artifact.backbone.sha256 !== backbone.sha256) {
      await backbone.close();
      throw new Error(
        `mask head ${headPath} was trained on backbone sha256 ${artifact.backbone.sha256.slice(0, 12)}…, ` +
          `but the assets hold ${backbone.sha256.slice(0, 12)}…: retrain or fix MASKWATCH_ASSETS`,
      );
    }
    const { weights: _omit, ...meta } = artifact;
    return new MaskClassifier(backbone, weights, meta);
  }

  /** Fraction of the face box to add on each side when cropping (use with cropFaces). */
  get cropMargin(): number {
    return this.artifact.cropMargin;
  }

  /** Gates and class thresholds chosen on validation by `maskwatch train` (absent in older heads). */
  get decision(): DecisionRule | undefined {
    return this.artifact.decision;
  }

  /** Class probabilities per crop, in order. Crops are batched through the backbone. */
  async predictProbabilities(crops: DecodedImage[]): Promise<FaceProbabilities[]> {
    const out: FaceProbabilities[] = [];
    for (let i = 0; i < crops.length; i += BATCH) {
      const { features } = await this.backbone.run(crops.slice(i, i + BATCH).map(resizeToInput));
      for (const f of features) out.push(headProbabilities(this.weights, f));
    }
    return out;
  }

  /** P(no mask) per crop, in order. */
  async predict(crops: DecodedImage[]): Promise<number[]> {
    return (await this.predictProbabilities(crops)).map((p) => p.no_mask);
  }

  async close(): Promise<void> {
    await this.backbone.close();
  }
}
