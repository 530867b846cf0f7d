/**
 * Edge analysis (`maskwatch agent --analyze`): the camera's host runs the same
 * vision engine as a central worker and turns each frame into the body of
 * POST /api/v1/detections — faces, probabilities and, for violating faces only,
 * a JPEG crop with every other face blurred. The frame itself never leaves the
 * site (it is not spooled either: the spool holds the detections).
 */
import { randomUUID } from 'node:crypto';
import { MAX_DETECTED_FACES, type DetectionsRequest } from '../contracts/api.ts';
import { decodeImage } from '../vision/image.ts';
import { renderPrivateFaceCrops } from '../vision/render.ts';
import type { FaceResult, FrameAnalysis, VisionEngine } from '../vision/types.ts';

export interface EdgeAnalysis {
  /** The JSON body for POST /api/v1/detections. */
  body: DetectionsRequest;
  /** Faces in the upload (at most MAX_DETECTED_FACES). */
  faces: number;
  /** Faces the engine found beyond that limit and left out (the smallest, i.e. farthest). */
  droppedFaces: number;
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
        ...(f.secondOpinion ? { secondOpinion: { noMaskProbability: f.secondOpinion.noMaskProbability } } : {}),
      };
    }),
  };
}

/**
 * Indexes (ascending) of the `max` largest faces by box area: a crowd beyond the upload's limit sends its
 * nearest faces rather than losing the frame (the API refuses more than MAX_DETECTED_FACES).
 */
export function largestFaces(faces: readonly Pick<FaceResult, 'box'>[], max = MAX_DETECTED_FACES): number[] {
  const all = faces.map((_, i) => i);
  if (faces.length <= max) return all;
  const area = (i: number) => faces[i]!.box[2] * faces[i]!.box[3];
  // Ties keep the earlier face, so the choice is deterministic.
  return all.sort((a, b) => area(b) - area(a) || a - b).slice(0, max).sort((a, b) => a - b);
}

export function createEdgeAnalyzer(engine: Pick<VisionEngine, 'analyzeFrame'>, opts: { maxPixels?: number } = {}) {
  return async function analyze(image: Buffer, capturedAt: Date): Promise<EdgeAnalysis> {
    const t0 = performance.now();
    const analysis = await engine.analyzeFrame(image);
    const t1 = performance.now();
    const kept = largestFaces(analysis.faces);
    // Indexes into analysis.faces of the violating faces sent, and their positions in the upload.
    const violating = kept.flatMap((faceIndex, position) => (analysis.faces[faceIndex]!.violation ? [{ faceIndex, position }] : []));
    const crops = new Map<number, Buffer>();
    if (violating.length > 0) {
      const frame = await decodeImage(image, { maxPixels: opts.maxPixels });
      // Every other face the engine found is blurred in a crop, the ones left out of the upload too.
      const rendered = await renderPrivateFaceCrops(frame, analysis.faces, violating.map((v) => v.faceIndex));
      violating.forEach(({ position }, i) => crops.set(position, rendered[i]!));
    }
    const sent = kept.length === analysis.faces.length ? analysis : { ...analysis, faces: kept.map((i) => analysis.faces[i]!) };
    return {
      body: detectionsBody(sent, crops, capturedAt),
      faces: kept.length,
      droppedFaces: analysis.faces.length - kept.length,
      violations: violating.length,
      analyzeMs: t1 - t0,
      renderMs: performance.now() - t1,
    };
  };
}

export type EdgeAnalyzer = ReturnType<typeof createEdgeAnalyzer>;
