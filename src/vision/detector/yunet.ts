import * as ort from 'onnxruntime-node';
import type { DecodedImage } from '../image.ts';
import type { FaceDetection, FaceDetector, RawBox } from './types.ts';
import { planDynamicInput, planFixedInput, toFrameDetections, type LetterboxPlan } from './letterbox.ts';
import { letterboxTensor } from './tensor.ts';
import { createSession, floatOutput } from './session.ts';

export const YUNET_STRIDES = [8, 16, 32] as const;

/** Raw per-stride outputs of YuNet for one image (batch 1). */
export interface YunetOutputs {
  cls: Float32Array[];
  obj: Float32Array[];
  bbox: Float32Array[];
  /** Five landmarks per cell (10 values), optional: decoded only when given. */
  kps?: Float32Array[];
}


/** Anchor-free grid of one stride: one prior per cell, row-major, as YuNet lays out its outputs. */
export function yunetGrid(inputWidth: number, inputHeight: number, stride: number): { cols: number; rows: number } {
  if (inputWidth % 32 !== 0 || inputHeight % 32 !== 0) {
    throw new RangeError(`YuNet input must be a multiple of 32, got ${inputWidth}x${inputHeight}`);
  }
  return { cols: inputWidth / stride, rows: inputHeight / stride };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

/**
 * Decodes YuNet (2023mar) outputs as OpenCV's FaceDetectorYN does:
 * score = sqrt(cls·obj) (both clamped to [0,1]); centre = (cell + offset)·stride;
 * size = exp(log-size)·stride.
 */
export function decodeYunet(out: YunetOutputs, inputWidth: number, inputHeight: number, scoreThreshold: number): RawBox[] {
  const boxes: RawBox[] = [];
  for (let s = 0; s < YUNET_STRIDES.length; s++) {
    const stride = YUNET_STRIDES[s]!;
    const { cols, rows } = yunetGrid(inputWidth, inputHeight, stride);
    const cls = out.cls[s];
    const obj = out.obj[s];
    const bbox = out.bbox[s];
    const kps = out.kps?.[s];
    if (kps && kps.length !== cols * rows * 10) throw new Error(`YuNet stride ${stride}: expected ${cols * rows * 10} landmark values`);
    if (!cls || !obj || !bbox || cls.length !== cols * rows || bbox.length !== cols * rows * 4) {
      throw new Error(`YuNet stride ${stride}: expected ${cols * rows} cells`);
    }
    decodeStride(cls, obj, bbox, kps, cols, rows, stride, scoreThreshold, boxes);
  }
  return boxes;
}

/**
 * One stride's cells. The loop over every cell runs thousands of times per frame and keeps few: it
 * compares cls·obj with threshold² (no square root, no allocation) and builds a box only for a cell
 * that passes. (A closure over the strides with the score computed first allocated ~100 bytes per
 * cell, a third of the worker's garbage, and so a good part of its full GCs.)
 */
function decodeStride(
  cls: Float32Array,
  obj: Float32Array,
  bbox: Float32Array,
  kps: Float32Array | undefined,
  cols: number,
  rows: number,
  stride: number,
  scoreThreshold: number,
  boxes: RawBox[],
): void {
  // A hair below threshold² so the shortcut never drops a cell the exact test below would keep.
  const minProduct = scoreThreshold > 0 ? scoreThreshold * scoreThreshold * (1 - 1e-9) : 0;
  for (let idx = 0, cells = cols * rows; idx < cells; idx++) {
    const product = clamp01(cls[idx]!) * clamp01(obj[idx]!);
    if (product < minProduct) continue;
    const score = Math.sqrt(product);
    if (score < scoreThreshold) continue;
    const r = Math.floor(idx / cols);
    const c = idx - r * cols;
    const cx = (c + bbox[idx * 4]!) * stride;
    const cy = (r + bbox[idx * 4 + 1]!) * stride;
    const w = Math.exp(bbox[idx * 4 + 2]!) * stride;
    const h = Math.exp(bbox[idx * 4 + 3]!) * stride;
    const b: RawBox = { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score };
    // Landmarks decode like the centre: (cell + offset)·stride.
    if (kps) {
      const landmarks: number[] = new Array(10);
      for (let k = 0; k < 10; k++) landmarks[k] = ((k % 2 === 0 ? c : r) + kps[idx * 10 + k]!) * stride;
      b.landmarks = landmarks;
    }
    boxes.push(b);
  }
}

export interface YunetOptions {
  modelPath: string;
  intraOpThreads: number;
  /**
   * Dynamic models only: the frame's longer side is brought into
   * [minLongSide, maxLongSide] (defaults 640 / 1280) before padding to a
   * multiple of 32. Ignored for the fixed-size model.
   */
  minLongSide?: number;
  maxLongSide?: number;
  nmsIoU?: number;
  name?: string;
}

/** YuNet on onnxruntime-node; works with the fixed 640×640 file and the dynamic ones. */
export class YunetDetector implements FaceDetector {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly fixed: { width: number; height: number } | null,
    private readonly range: { minLongSide: number; maxLongSide: number },
    private readonly nmsIoU: number,
    readonly name: string,
  ) {}

  static async load(opts: YunetOptions): Promise<YunetDetector> {
    const session = await createSession(opts.modelPath, opts.intraOpThreads);
    const shape = session.inputMetadata[0]?.isTensor ? session.inputMetadata[0].shape : [];
    const h = shape[2];
    const w = shape[3];
    const fixed = typeof w === 'number' && typeof h === 'number' ? { width: w, height: h } : null;
    const range = { minLongSide: opts.minLongSide ?? 640, maxLongSide: opts.maxLongSide ?? 1280 };
    const label = fixed ? `${fixed.width}x${fixed.height}` : `${range.minLongSide}-${range.maxLongSide}`;
    return new YunetDetector(session, fixed, range, opts.nmsIoU ?? 0.3, opts.name ?? `yunet@${label}`);
  }

  /**
   * Input bodies by size, reused across frames (a 1280×832 input is 12.8 MB:
   * allocating and zeroing one per frame was a large part of the GC time). A
   * pool, not one buffer, because concurrent detect() calls each need their own.
   */
  private readonly bodies = new Map<number, Float32Array[]>();

  plan(width: number, height: number): LetterboxPlan {
    return this.fixed
      ? planFixedInput(width, height, this.fixed.width, this.fixed.height)
      : planDynamicInput(width, height, this.range, 32);
  }

  async detect(image: DecodedImage, scoreThreshold: number): Promise<FaceDetection[]> {
    const plan = this.plan(image.width, image.height);
    const size = 3 * plan.inputWidth * plan.inputHeight;
    let free = this.bodies.get(size);
    if (!free) {
      // Frames of a camera keep one size; bound the pool when sizes vary.
      if (this.bodies.size >= 4) this.bodies.clear();
      this.bodies.set(size, (free = []));
    }
    const body = free.pop();
    const data = await letterboxTensor(image, plan, { order: 'bgr', mean: 0, multiplier: 1 }, body);
    const input = new ort.Tensor('float32', data, [1, 3, plan.inputHeight, plan.inputWidth]);
    let o: ort.InferenceSession.OnnxValueMapType;
    try {
      o = await this.session.run({ input });
    } finally {
      free.push(data);
    }
    const raw = decodeYunet(
      {
        cls: YUNET_STRIDES.map((s) => floatOutput(o, `cls_${s}`)),
        obj: YUNET_STRIDES.map((s) => floatOutput(o, `obj_${s}`)),
        bbox: YUNET_STRIDES.map((s) => floatOutput(o, `bbox_${s}`)),
        kps: YUNET_STRIDES.map((s) => floatOutput(o, `kps_${s}`)),
      },
      plan.inputWidth,
      plan.inputHeight,
      scoreThreshold,
    );
    return toFrameDetections(raw, plan.scale, image, this.name, this.nmsIoU);
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
