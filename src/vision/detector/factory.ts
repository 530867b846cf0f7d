import { resolveAsset } from '../assets.ts';
import type { FaceDetector } from './types.ts';
import { YunetDetector } from './yunet.ts';
import { UltrafaceDetector } from './ultraface.ts';
import { EnsembleDetector } from './ensemble.ts';
import type { DetectorKind } from './kinds.ts';

export { DETECTOR_KINDS, parseDetectorKind, type DetectorKind } from './kinds.ts';

export interface DetectorOptions {
  assetsDir: string;
  kind?: DetectorKind;
  intraOpThreads: number;
  /** Dynamic YuNet: the frame's longer side is brought into [min, max] (default 640–1280). */
  minLongSide?: number;
  maxLongSide?: number;
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
