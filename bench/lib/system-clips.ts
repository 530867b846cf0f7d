/**
 * What bench:system's cameras send in central mode: consecutive frames of
 * scenes, not unrelated stills. One camera's loop is, per cycle, an 8-frame
 * clip (bench/lib/clips.ts) of a kaggle-scenes-dev scene with at least one
 * bare face ≥ 24 px, then 4 frames of a clip of a scene where everyone is
 * masked — 2 s without the violator at 2 fps, longer than the bench's 1 s alert
 * cooldown, so every cycle opens a new alert (frame → alert.created is
 * measurable) while most frames are ordinary consecutive frames of one scene.
 * Scenes come from the protocol split's `train` side (models/scene-split.json),
 * never from the `val` / `report` scenes that choose and report settings.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseVocAnnotation } from '../../src/vision/evaluation/detection.ts';
import { DEFAULT_CLIP, makeClip, seedFor } from './clips.ts';
import { datasetDir, SCENES_DATASET } from '../../src/vision/train/datasets.ts';

export interface SystemClips {
  frames: Buffer[];
  /** Frames per cycle (one new alert per cycle and camera). */
  cycleFrames: number;
  violatorScenes: string[];
  maskedScenes: string[];
}

export async function loadSystemClips(opts: { assetsDir: string; repoRoot: string; cycles?: number; seed?: number }): Promise<SystemClips> {
  const cycles = opts.cycles ?? 6;
  const seed = opts.seed ?? 1;
  const scenes = datasetDir(opts.assetsDir, SCENES_DATASET);
  const split = JSON.parse(await readFile(path.join(opts.repoRoot, 'models', 'scene-split.json'), 'utf8')) as { sides: Record<string, string> };
  const train = Object.keys(split.sides).filter((s) => split.sides[s] === 'train').sort();
  const violatorScenes: string[] = [];
  const maskedScenes: string[] = [];
  for (const stem of train) {
    if (violatorScenes.length >= cycles && maskedScenes.length >= cycles) break;
    const gt = parseVocAnnotation(await readFile(path.join(scenes, 'annotations', `${stem}.xml`), 'utf8'));
    const big = (g: (typeof gt)[number]) => Math.min(g.box[2], g.box[3]) >= 24;
    if (gt.some((g) => g.label === 'without_mask' && big(g)) && violatorScenes.length < cycles) violatorScenes.push(stem);
    else if (gt.length > 0 && gt.every((g) => g.label === 'with_mask') && maskedScenes.length < cycles) maskedScenes.push(stem);
  }
  if (violatorScenes.length === 0 || maskedScenes.length === 0) throw new Error('no suitable kaggle-scenes-dev train scenes for bench:system clips');
  const frames: Buffer[] = [];
  for (let i = 0; i < violatorScenes.length; i++) {
    const clipOf = async (stem: string) => makeClip(await readFile(path.join(scenes, 'images', `${stem}.jpg`)), { ...DEFAULT_CLIP, seed: seedFor(stem, seed) });
    frames.push(...(await clipOf(violatorScenes[i]!)).map((f) => f.jpeg));
    frames.push(...(await clipOf(maskedScenes[i % maskedScenes.length]!)).slice(0, 4).map((f) => f.jpeg));
  }
  return { frames, cycleFrames: DEFAULT_CLIP.frames + 4, violatorScenes, maskedScenes };
}

/**
 * The `scenes` mix (bench:system --mix scenes): real street scenes as bench:incidents sees them — every kind
 * of annotated still (one or two people, crowds, masked or not), each as its 8-frame clip, so the faces per
 * frame follow the dataset rather than the crowd case above. `count` train scenes spread evenly over the
 * sorted train side (the val / report scenes stay unseen here too). Alerts come from the scenes with a bare face.
 */
export async function loadSceneClips(opts: { assetsDir: string; repoRoot: string; count?: number; seed?: number }): Promise<SystemClips> {
  const count = opts.count ?? 12;
  const seed = opts.seed ?? 1;
  const scenes = datasetDir(opts.assetsDir, SCENES_DATASET);
  const split = JSON.parse(await readFile(path.join(opts.repoRoot, 'models', 'scene-split.json'), 'utf8')) as { sides: Record<string, string> };
  const train = Object.keys(split.sides).filter((s) => split.sides[s] === 'train').sort();
  const stride = Math.max(1, Math.floor(train.length / count));
  const chosen = train.filter((_, i) => i % stride === 0).slice(0, count);
  const violatorScenes: string[] = [];
  const maskedScenes: string[] = [];
  for (const stem of chosen) {
    const gt = parseVocAnnotation(await readFile(path.join(scenes, 'annotations', `${stem}.xml`), 'utf8'));
    (gt.some((g) => g.label === 'without_mask') ? violatorScenes : maskedScenes).push(stem);
  }
  if (violatorScenes.length === 0) throw new Error('no kaggle-scenes-dev train scene with a bare face among the chosen scenes');
  // Scenes with a bare face spread evenly over the loop: cameras start on different clips, and each meets one soon.
  const order: string[] = [];
  const every = chosen.length / violatorScenes.length;
  for (let i = 0, v = 0, m = 0; i < chosen.length; i++) {
    order.push(v < violatorScenes.length && i >= Math.round(v * every) ? violatorScenes[v++]! : (maskedScenes[m++] ?? violatorScenes[v++]!));
  }
  const frames: Buffer[] = [];
  for (const stem of order) {
    const clip = await makeClip(await readFile(path.join(scenes, 'images', `${stem}.jpg`)), { ...DEFAULT_CLIP, seed: seedFor(stem, seed) });
    frames.push(...clip.map((f) => f.jpeg));
  }
  return { frames, cycleFrames: DEFAULT_CLIP.frames, violatorScenes, maskedScenes };
}
