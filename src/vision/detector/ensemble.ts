import type { DecodedImage } from '../image.ts';
import { nms } from '../nms.ts';
import type { FaceDetection, FaceDetector } from './types.ts';

/**
 * Runs several detectors (or one model at several input sizes) and merges
 * their faces by union + NMS: each member misses different faces (small vs
 * masked), so the union has higher recall than any one of them.
 */
export class EnsembleDetector implements FaceDetector {
  readonly name: string;
  constructor(
    private readonly members: FaceDetector[],
    private readonly nmsIoU = 0.3,
  ) {
    if (members.length === 0) throw new Error('EnsembleDetector needs at least one detector');
    this.name = members.map((m) => m.name).join('+');
  }

  async detect(image: DecodedImage, scoreThreshold: number): Promise<FaceDetection[]> {
    const all: FaceDetection[] = [];
    // Sequential on purpose: ORT already uses the configured intra-op threads.
    for (const m of this.members) all.push(...(await m.detect(image, scoreThreshold)));
    return this.members.length === 1 ? all : nms(all, this.nmsIoU);
  }

  async close(): Promise<void> {
    for (const m of this.members) await m.close();
  }
}
