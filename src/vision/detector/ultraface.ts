import * as ort from 'onnxruntime-node';
import type { DecodedImage } from '../image.ts';
import { planFixedInput, toFrameDetections } from './letterbox.ts';
import { letterboxTensor } from './tensor.ts';
import { createSession, floatOutput } from './session.ts';
import type { FaceDetection, FaceDetector, RawBox } from './types.ts';

/**
 * Decodes UltraFace masked-face outputs: softmaxed scores [N,3]
 * (background, face, masked_face) and corner boxes in 0–1 of the input.
 * Face score = 1 − P(background), so masked and bare faces count alike.
 */
export function decodeUltraface(
  scores: Float32Array,
  boxes: Float32Array,
  inputWidth: number,
  inputHeight: number,
  scoreThreshold: number,
): RawBox[] {
  const n = scores.length / 3;
  if (!Number.isInteger(n) || boxes.length !== n * 4) throw new Error(`UltraFace: scores/boxes sizes disagree (${scores.length}, ${boxes.length})`);
  const out: RawBox[] = [];
  for (let i = 0; i < n; i++) {
    const score = scores[i * 3 + 1]! + scores[i * 3 + 2]!;
    if (score < scoreThreshold) continue;
    out.push({
      x1: boxes[i * 4]! * inputWidth,
      y1: boxes[i * 4 + 1]! * inputHeight,
      x2: boxes[i * 4 + 2]! * inputWidth,
      y2: boxes[i * 4 + 3]! * inputHeight,
      score,
    });
  }
  return out;
}

export class UltrafaceDetector implements FaceDetector {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputWidth: number,
    private readonly inputHeight: number,
    private readonly nmsIoU: number,
    readonly name: string,
  ) {}

  static async load(opts: { modelPath: string; intraOpThreads: number; nmsIoU?: number; name?: string }): Promise<UltrafaceDetector> {
    const session = await createSession(opts.modelPath, opts.intraOpThreads);
    const shape = session.inputMetadata[0]?.isTensor ? session.inputMetadata[0].shape : [];
    const [h, w] = [shape[2], shape[3]];
    if (typeof w !== 'number' || typeof h !== 'number') throw new Error(`UltraFace model ${opts.modelPath} has no fixed input size`);
    return new UltrafaceDetector(session, w, h, opts.nmsIoU ?? 0.3, opts.name ?? `ultraface@${w}x${h}`);
  }

  async detect(image: DecodedImage, scoreThreshold: number): Promise<FaceDetection[]> {
    const plan = planFixedInput(image.width, image.height, this.inputWidth, this.inputHeight);
    const data = await letterboxTensor(image, plan, { order: 'rgb', mean: 127, multiplier: 1 / 128 });
    const o = await this.session.run({ input: new ort.Tensor('float32', data, [1, 3, this.inputHeight, this.inputWidth]) });
    const raw = decodeUltraface(floatOutput(o, 'scores'), floatOutput(o, 'boxes'), this.inputWidth, this.inputHeight, scoreThreshold);
    return toFrameDetections(raw, plan.scale, image, this.name, this.nmsIoU);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
