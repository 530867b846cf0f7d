import { readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** 0 = mask, 1 = no_mask (same order as CLASSES in head.ts). */
export type Label = 0 | 1;

export interface Sample {
  /** Absolute path. */
  path: string;
  dataset: string;
  /** Folder name inside the dataset (with_mask, without_mask, mask_weared_incorrect). */
  folder: string;
  file: string;
  label: Label;
}

export const TRAINING_DATASETS = ['prajna', 'chandrikadeb7'] as const;
export const FACE_CROPS_DATASET = 'kaggle-face-crops-dev';
/** Street scenes with VOC annotations: split by image into train / val / report (src/vision/protocol/scene-split.ts). */
export const SCENES_DATASET = 'kaggle-scenes-dev';
const IMAGE_EXT = /\.(jpe?g|png|webp)$/i;

export function datasetDir(assetsDir: string, name: string): string {
  return path.join(assetsDir, 'datasets', name);
}

async function listFolder(assetsDir: string, dataset: string, folder: string, label: Label): Promise<Sample[]> {
  const dir = path.join(datasetDir(assetsDir, dataset), folder);
  if (!existsSync(dir)) throw new Error(`dataset folder missing: ${dir} (is MASKWATCH_ASSETS right?)`);
  const files = (await readdir(dir)).filter((f) => IMAGE_EXT.test(f)).sort();
  if (files.length === 0) throw new Error(`dataset folder has no images: ${dir}`);
  return files.map((file) => ({ path: path.join(dir, file), dataset, folder, file, label }));
}

/** A two-class dataset laid out as with_mask/ and without_mask/. */
export async function listMaskDataset(assetsDir: string, dataset: string): Promise<Sample[]> {
  return [
    ...(await listFolder(assetsDir, dataset, 'with_mask', 0)),
    ...(await listFolder(assetsDir, dataset, 'without_mask', 1)),
  ];
}

export function sampleId(s: Sample): string {
  return `${s.dataset}/${s.folder}/${s.file}`;
}
