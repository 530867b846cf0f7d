import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Backbone, backboneModelPath, INPUT_SIZE, mirrorInput, writeCropInput, type BackboneForm } from './backbone.ts';
import { loadHeadTail } from './backbone-tail.ts';
import { cropRect } from './crop.ts';
import { headBackboneForm, headProbabilities, headWeightsFromArtifact, parseHeadArtifact, type DecisionRule, type HeadArtifact, type HeadWeights } from './head.ts';
import type { FaceProbabilities } from './decision.ts';
import type { DecodedImage } from './image.ts';
import { RESIZE_METHOD } from './resize.ts';
import { REPO_ROOT } from '../paths.ts';
import type { Box } from './types.ts';

/** The committed head, relative to the repository root. */
export const DEFAULT_HEAD_PATH = path.join(REPO_ROOT, 'models', 'mask-head.json');

/**
 * Crops per backbone call. With one intra-op thread a larger batch is no faster (CPU per face, 312 real
 * crops, two interleaved rounds: batch 1 5.5–5.8 ms, 2 5.7, 4 5.7, 8 6.0–6.4), but each crop of a batch adds
 * its float activations to ONNX Runtime's arena for the life of the process (peak RSS of that run: 1 and 2
 * ~250 MB, 4 ~275, 8 ~345). The answers are bit-identical whatever the batch.
 */
const BATCH = 2;
const BODY_VALUES = BATCH * 3 * INPUT_SIZE * INPUT_SIZE;

/**
 * Face crop → P(mask), P(no mask), P(mask incorrect). MobileNetV2 features (ONNX Runtime; the last block as
 * fine-tuned with the head, when the head lists a tail) and the
 * trained head in plain JS.
 */
export class MaskClassifier {
  private constructor(
    private readonly backbone: Backbone,
    private readonly weights: HeadWeights,
    readonly artifact: Omit<HeadArtifact, 'weights'>,
  ) {}

  /**
   * The backbone runs in the form the head was trained on (artifact
   * backbone.form); `backbone`, when given, is the form the caller expects,
   * and a head of another form is refused rather than fed foreign features.
   */
  static async load(opts: { assetsDir: string; headPath?: string; intraOpThreads?: number; backbone?: BackboneForm }): Promise<MaskClassifier> {
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
    const form = headBackboneForm(artifact);
    if (opts.backbone && opts.backbone !== form) {
      throw new Error(`mask head ${headPath} was trained on ${form} backbone features, not ${opts.backbone}: retrain with \`maskwatch train --backbone ${opts.backbone}\` or use a ${opts.backbone} head`);
    }
    const tail = await loadHeadTail(artifact, headPath);
    const backbone = await Backbone.load({ modelPath: await backboneModelPath(opts.assetsDir), intraOpThreads: opts.intraOpThreads, form, tail });
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

  /** Form of the backbone features this classifier computes (the head's). */
  get backboneForm(): BackboneForm {
    return headBackboneForm(this.artifact);
  }

  /** Fraction of the face box to add on each side when cropping (use with cropFaces). */
  get cropMargin(): number {
    return this.artifact.cropMargin;
  }

  /** Gates and class thresholds chosen on validation by `maskwatch train` (absent in older heads). */
  get decision(): DecisionRule | undefined {
    return this.artifact.decision;
  }

  /**
   * Input tensor bodies (4.8 MB each) kept between calls instead of
   * reallocated per frame (garbage collection was 7 % of a detect profile).
   * A pool, not one buffer: concurrent calls (worker concurrency > 1) each
   * take their own while ORT reads it.
   */
  private readonly bodies: Float32Array[] = [];

  /** Class probabilities per crop, in order. Crops are batched through the backbone. */
  async predictProbabilities(crops: DecodedImage[]): Promise<FaceProbabilities[]> {
    return this.predictRegions(crops.map((img) => ({ frame: img, rect: [0, 0, img.width, img.height] as Box })));
  }

  /**
   * Class probabilities per face box of one decoded frame, framed as in training
   * (cropRect with this head's margin). Same numbers as
   * predictProbabilities(cropFaces(frame, boxes, cropMargin)), without copying the crops.
   * `mirrored`: each crop is seen mirrored left to right (the engine's second look at accused faces).
   */
  async predictFaces(frame: DecodedImage, boxes: Box[], opts: { mirrored?: boolean } = {}): Promise<FaceProbabilities[]> {
    return this.predictRegions(boxes.map((box) => ({ frame, rect: cropRect(box, frame.width, frame.height, this.cropMargin) })), opts.mirrored);
  }

  private async predictRegions(regions: Array<{ frame: DecodedImage; rect: Box }>, mirrored = false): Promise<FaceProbabilities[]> {
    if (regions.length === 0) return [];
    const body = this.bodies.pop() ?? new Float32Array(BODY_VALUES);
    try {
      const out: FaceProbabilities[] = [];
      for (let i = 0; i < regions.length; i += BATCH) {
        const n = Math.min(BATCH, regions.length - i);
        for (let k = 0; k < n; k++) {
          writeCropInput(regions[i + k]!.frame, regions[i + k]!.rect, body, k);
          if (mirrored) mirrorInput(body, k);
        }
        const { features } = await this.backbone.runInput(body, n);
        for (const f of features) out.push(headProbabilities(this.weights, f));
      }
      return out;
    } finally {
      this.bodies.push(body);
    }
  }

  /** P(no mask) per crop, in order. */
  async predict(crops: DecodedImage[]): Promise<number[]> {
    return (await this.predictProbabilities(crops)).map((p) => p.no_mask);
  }

  async close(): Promise<void> {
    await this.backbone.close();
  }
}
