/**
 * Detector names, apart from the factory so the CLI can check `--detector`
 * without loading ONNX Runtime. Detector choices, by measured face recall on kaggle-scenes-dev (GT faces
 * ≥ 24 px, score ≥ 0.6, IoU ≥ 0.4 as the scorer; masked / unmasked):
 * yunet-s 0.93 / 0.97 (IoU 0.5: 0.89 / 0.97); yunet-n 0.94 / 0.96 with more
 * false faces and ~1.5× the time; yunet-640 (fixed 640×640) 0.94 / 0.97;
 * ultraface (masked-face RFB-640) 0.79 / 0.45 — it misses small faces;
 * yunet-s+n union 0.95 / 0.98 at 2× the cost. yunet-s is the default.
 */
export const DETECTOR_KINDS = ['yunet-s', 'yunet-n', 'yunet-640', 'ultraface', 'yunet-s+n'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

export function parseDetectorKind(raw: string): DetectorKind {
  if (!(DETECTOR_KINDS as readonly string[]).includes(raw)) {
    throw new Error(`unknown detector "${raw}"; choose one of ${DETECTOR_KINDS.join(', ')}`);
  }
  return raw as DetectorKind;
}
