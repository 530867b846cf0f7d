import { resolveAsset } from '../assets.ts';
import type { FaceDetector } from './types.ts';
import { YunetDetector } from './yunet.ts';
import { UltrafaceDetector } from './ultraface.ts';
import { EnsembleDetector } from './ensemble.ts';

/**
 * Detector choices, by measured face recall on kaggle-scenes-dev (GT faces
 * ≥ 24 px, score ≥ 0.6, IoU ≥ 0.4 as the scorer; masked / unmasked):
 * yunet-s 0.93 / 0.97 (IoU 0.5: 0.89 / 0.97); yunet-n 0.94 / 0.96 with more
 * false faces and ~1.5× the time; yunet-640 (fixed 640×640) 0.94 / 0.97;
 * ultraface (masked-face RFB-640) 0.79 / 0.45 — it misses small faces;
 * yunet-s+n union 0.95 / 0.98 at 2× the cost. yunet-s is the default.
 */
export const DETECTOR_KINDS = ['yunet-s', 'yunet-n', 'yunet-640', 'ultraface', 'yunet-s+n'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];

export interface DetectorOptions {
  assetsDir: string;
  kind?: DetectorKind;
  intraOpThreads: number;
  /** Dynamic YuNet: the frame's longer side is brought into [min, max] (default 640–1280). */
  minLongSide?: number;
  maxLongSide?: number;
}

export function parseDetectorKind(raw: string): DetectorKind {
  if (!(DETECTOR_KINDS as readonly string[]).includes(raw)) {
    throw new Error(`unknown detector "${raw}"; choose one of ${DETECTOR_KINDS.join(', ')}`);
  }
  return raw as DetectorKind;
}

export async function createFaceDetector(opts: DetectorOptions): Promise<FaceDetector> {
  const kind = opts.kind ?? 'yunet-s';
  const base = { intraOpThreads: opts.intraOpThreads, minLongSide: opts.minLongSide, maxLongSide: opts.maxLongSide };
  const yunet = async (name: string) => YunetDetector.load({ ...base, modelPath: await resolveAsset(opts.assetsDir, name) });
  switch (kind) {
    case 'yunet-s':
      return yunet('yunet-s-dynamic');
    case 'yunet-n':
      return yunet('yunet-n-dynamic');
    case 'yunet-640':
      return yunet('yunet-2023mar');
    case 'ultraface':
      return UltrafaceDetector.load({ modelPath: await resolveAsset(opts.assetsDir, 'ultraface-masked-640'), intraOpThreads: opts.intraOpThreads });
    case 'yunet-s+n':
      return new EnsembleDetector([await yunet('yunet-s-dynamic'), await yunet('yunet-n-dynamic')]);
  }
}
