/**
 * Edge analysis (`maskwatch agent --analyze`): the camera's host runs the same
 * vision engine as a central worker and turns each frame into the body of
 * POST /api/v1/detections — faces, probabilities and, for violating faces only,
 * a JPEG crop with every other face blurred. The frame itself never leaves the
 * site (it is not spooled either: the spool holds the detections).
 */
import { randomUUID } from 'node:crypto';
import type { DetectionsRequest } from '../contracts/api.ts';
import { decodeImage } from '../vision/image.ts';
import { renderPrivateFaceCrops } from '../vision/render.ts';
import type { FrameAnalysis, VisionEngine } from '../vision/types.ts';

export interface EdgeAnalysis {
  /** The JSON body for POST /api/v1/detections. */
  body: DetectionsRequest;
  faces: number;
  violations: number;
  /** Engine time (decode, detect, classify) and crop rendering, ms. */
  analyzeMs: number;
  renderMs: number;
}

/** The upload body from an analysis and the crops of its violating faces (pure). */
export function detectionsBody(analysis: FrameAnalysis, crops: Map<number, Buffer>, capturedAt: Date, frameId: string = randomUUID()): DetectionsRequest {
  return {
    frameId,
    capturedAt: capturedAt.toISOString(),
    width: analysis.width,
    height: analysis.height,
    faces: analysis.faces.map((f, i) => {
      const crop = crops.get(i);
      return {
        box: [...f.box],
        score: f.score,
        probabilities: { mask: f.probabilities.mask, no_mask: f.probabilities.no_mask, mask_incorrect: f.probabilities.mask_incorrect },
        ...(crop ? { crop: crop.toString('base64') } : {}),
      };
    }),
  };
}

export function createEdgeAnalyzer(engine: Pick<VisionEngine, 'analyzeFrame'>, opts: { maxPixels?: number } = {}) {
  return async function analyze(image: Buffer, capturedAt: Date): Promise<EdgeAnalysis> {
    const t0 = performance.now();
    const analysis = await engine.analyzeFrame(image);
    const t1 = performance.now();
    const violating = analysis.faces.flatMap((f, i) => (f.violation ? [i] : []));
    const crops = new Map<number, Buffer>();
    if (violating.length > 0) {
      const frame = await decodeImage(image, { maxPixels: opts.maxPixels });
      const rendered = await renderPrivateFaceCrops(frame, analysis.faces, violating);
      violating.forEach((faceIndex, i) => crops.set(faceIndex, rendered[i]!));
    }
    return {
      body: detectionsBody(analysis, crops, capturedAt),
      faces: analysis.faces.length,
      violations: violating.length,
      analyzeMs: t1 - t0,
      renderMs: performance.now() - t1,
    };
  };
}

export type EdgeAnalyzer = ReturnType<typeof createEdgeAnalyzer>;
