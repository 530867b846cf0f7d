import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { resolveAsset } from '../assets.ts';
import type { DecodedImage } from '../image.ts';
import { iou, nms } from '../nms.ts';
import { resizeRgbRect } from '../resize.ts';
import type { Box } from '../types.ts';
import { readCaffeWeights } from './caffemodel.ts';
import { caffeToOnnx } from './caffe-to-onnx.ts';
import { parsePrototxt } from './prototxt.ts';

/**
 * AIZOOTech FaceMaskDetection (MIT): a small SSD that finds faces and calls
 * each mask / no mask, trained on other data than our head. Converted from
 * its Caffe files to ONNX in memory at load time (the assets stay read-only).
 * Decoding as the original repository's caffe_infer.py, anchor_generator.py
 * and anchor_decode.py: input RGB / 255 at 260×260; anchors per cell (row-major)
 * = both sizes at ratio 1, then the first size at ratios 0.62 and 0.42;
 * variances [0.1, 0.1, 0.2, 0.2]; sigmoid scores [mask, no_mask].
 */
export const AIZOO_MODEL = 'aizoo-facemask-caffemodel';
export const AIZOO_PROTOTXT = 'aizoo-facemask-prototxt';
export const AIZOO_INPUT = 260;
const FEATURE_MAPS = [33, 17, 9, 5, 3];
const ANCHOR_SIZES = [[0.04, 0.056], [0.08, 0.11], [0.16, 0.22], [0.32, 0.45], [0.64, 0.72]];
const ANCHOR_RATIOS = [1, 0.62, 0.42];
const VARIANCES = [0.1, 0.1, 0.2, 0.2];

/** Anchors as [cx, cy, w, h] in input fractions, in the order of the network's outputs. */
export function aizooAnchors(): Float32Array {
  const out: number[] = [];
  FEATURE_MAPS.forEach((n, level) => {
    const sizes = ANCHOR_SIZES[level]!;
    const shapes: Array<[number, number]> = [
      ...sizes.map((s): [number, number] => [s, s]),
      ...ANCHOR_RATIOS.slice(1).map((r): [number, number] => [sizes[0]! * Math.sqrt(r), sizes[0]! / Math.sqrt(r)]),
    ];
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) for (const [w, h] of shapes) out.push((x + 0.5) / n, (y + 0.5) / n, w, h);
  });
  return Float32Array.from(out);
}

export interface AizooFace {
  /** In the coordinates of the image (or region) given: [x, y, w, h]. */
  box: Box;
  /** max(P(mask), P(no mask)), as the original's NMS score. */
  score: number;
  mask: number;
  noMask: number;
}

/** Decodes one image's outputs to boxes in input fractions; keeps anchors whose best class ≥ minScore, then NMS. */
export function decodeAizoo(loc: Float32Array, cls: Float32Array, anchors: Float32Array, minScore: number, nmsIoU = 0.4): AizooFace[] {
  const n = anchors.length / 4;
  if (loc.length !== n * 4 || cls.length !== n * 2) throw new Error(`AIZOO outputs do not match ${n} anchors`);
  const faces: AizooFace[] = [];
  for (let i = 0; i < n; i++) {
    const mask = cls[i * 2]!;
    const noMask = cls[i * 2 + 1]!;
    const score = Math.max(mask, noMask);
    if (score < minScore) continue;
    const [acx, acy, aw, ah] = [anchors[i * 4]!, anchors[i * 4 + 1]!, anchors[i * 4 + 2]!, anchors[i * 4 + 3]!];
    const cx = loc[i * 4]! * VARIANCES[0]! * aw + acx;
    const cy = loc[i * 4 + 1]! * VARIANCES[1]! * ah + acy;
    const w = Math.exp(loc[i * 4 + 2]! * VARIANCES[2]!) * aw;
    const h = Math.exp(loc[i * 4 + 3]! * VARIANCES[3]!) * ah;
    faces.push({ box: [cx - w / 2, cy - h / 2, w, h], score, mask, noMask });
  }
  return nms(faces, nmsIoU);
}

const LEVELS = (() => {
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = v / 255;
  return [lut, lut, lut] as const;
})();

export class AizooDetector {
  private readonly anchors = aizooAnchors();
  /**
   * Input bodies kept between calls. A pool, not one buffer: ONNX Runtime reads the input after run()
   * returns its promise, so concurrent calls (worker concurrency > 1) must not share one.
   */
  private readonly bodies: Float32Array[] = [];

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly io: { input: string; loc: string; cls: string },
  ) {}

  static async load(opts: { assetsDir: string; intraOpThreads?: number }): Promise<AizooDetector> {
    const [modelPath, prototxtPath] = await Promise.all([resolveAsset(opts.assetsDir, AIZOO_MODEL), resolveAsset(opts.assetsDir, AIZOO_PROTOTXT)]);
    const [weights, text] = await Promise.all([readFile(modelPath), readFile(prototxtPath, 'utf8')]);
    const converted = caffeToOnnx(parsePrototxt(text), readCaffeWeights(weights));
    const loc = converted.outputs.find((o) => o.startsWith('loc_branch_concat'));
    const cls = converted.outputs.find((o) => o.startsWith('cls_branch_concat'));
    if (!loc || !cls) throw new Error(`AIZOO model outputs are [${converted.outputs.join(', ')}], expected loc_branch_concat and cls_branch_concat`);
    const session = await ort.InferenceSession.create(converted.model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: opts.intraOpThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    return new AizooDetector(session, { input: converted.input, loc, cls });
  }

  /**
   * Faces in the rectangle `rect` (integer pixels inside the frame) of `frame`,
   * stretched to 260×260 as the original does with a whole image; boxes come
   * back in frame pixels.
   */
  async detect(frame: DecodedImage, rect: Box, minScore = 0.2): Promise<AizooFace[]> {
    const body = this.bodies.pop() ?? new Float32Array(3 * AIZOO_INPUT * AIZOO_INPUT);
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      resizeRgbRect(frame, rect, AIZOO_INPUT, AIZOO_INPUT, { kind: 'planes', data: body, offset: 0, levels: LEVELS });
      out = await this.session.run({ [this.io.input]: new ort.Tensor('float32', body, [1, 3, AIZOO_INPUT, AIZOO_INPUT]) });
    } finally {
      this.bodies.push(body);
    }
    const loc = out[this.io.loc]!;
    const cls = out[this.io.cls]!;
    const faces = decodeAizoo(loc.data as Float32Array, cls.data as Float32Array, this.anchors, minScore);
    loc.dispose();
    cls.dispose();
    const [rx, ry, rw, rh] = rect;
    return faces.map((f) => ({ ...f, box: [rx + f.box[0] * rw, ry + f.box[1] * rh, f.box[2] * rw, f.box[3] * rh] as Box }));
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * Square region of side `scale` × the face's longer side around its centre,
 * shifted to stay inside the frame (clipped only when the frame is smaller).
 */
export function regionAround(box: Box, frameWidth: number, frameHeight: number, scale: number): Box {
  const side = Math.max(1, Math.round(Math.max(box[2], box[3]) * scale));
  const fit = (centre: number, size: number): [number, number] => {
    const len = Math.min(side, size);
    const start = Math.round(Math.min(Math.max(0, centre - len / 2), size - len));
    return [start, len];
  };
  const [x, w] = fit(box[0] + box[2] / 2, frameWidth);
  const [y, h] = fit(box[1] + box[3] / 2, frameHeight);
  return [x, y, w, h];
}

/** The AIZOO face that best overlaps `box` (IoU ≥ minIoU), or null: "no face found there". */
export function bestMatch(faces: readonly AizooFace[], box: Box, minIoU: number): AizooFace | null {
  let best: AizooFace | null = null;
  let bestIoU = minIoU;
  for (const f of faces) {
    const v = iou(f.box, box);
    if (v >= bestIoU) {
      best = f;
      bestIoU = v;
    }
  }
  return best;
}
