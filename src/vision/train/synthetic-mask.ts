import type { DecodedImage } from '../image.ts';
import { uniform, type Rng } from './rng.ts';

/**
 * Synthetic masks painted on UNMASKED faces, placed with YuNet's five
 * landmarks (right eye, left eye, nose tip, right mouth corner, left mouth
 * corner) — the way the seed set was made (a mask graphic pasted on a
 * face), but with the mask's top edge put where the class says:
 *  - `below-nose`: under the nose tip, nose uncovered (mask_incorrect);
 *  - `on-chin`: under the mouth (mask_incorrect);
 *  - `over-nose`: up to the bridge of the nose (mask, correctly worn) — so
 *    the painted texture appears in both classes and the head has to learn
 *    WHERE the mask sits, not that a flat mask is "incorrect".
 * Only training uses these; every figure is measured on real faces.
 */
export type MaskPlacement = 'below-nose' | 'on-chin' | 'over-nose';

/** Mask colours seen in street scenes (surgical blue / green, white, grey, black, navy, pink). */
const PALETTE: ReadonlyArray<readonly [number, number, number]> = [
  [140, 190, 225],
  [150, 205, 190],
  [236, 236, 238],
  [205, 205, 210],
  [38, 38, 44],
  [42, 58, 95],
  [228, 182, 192],
];

type Pt = [number, number];

/** Face frame from the landmarks: origin between the eyes, v down to the mouth, u across, unit = eye→mouth distance. */
export function faceFrame(lm: ReadonlyArray<Pt>) {
  if (lm.length < 5) throw new RangeError(`need 5 landmarks, got ${lm.length}`);
  const [re, le, nose, rm, lmouth] = lm as [Pt, Pt, Pt, Pt, Pt];
  const eye: Pt = [(re[0] + le[0]) / 2, (re[1] + le[1]) / 2];
  const mouth: Pt = [(rm[0] + lmouth[0]) / 2, (rm[1] + lmouth[1]) / 2];
  let vx = mouth[0] - eye[0];
  let vy = mouth[1] - eye[1];
  const d = Math.hypot(vx, vy);
  if (!(d > 0)) throw new RangeError('degenerate landmarks (eyes and mouth coincide)');
  vx /= d;
  vy /= d;
  // u ⟂ v, pointing from the right eye towards the left eye (image left→right for a frontal face).
  let ux = -vy;
  let uy = vx;
  if ((le[0] - re[0]) * ux + (le[1] - re[1]) * uy < 0) {
    ux = -ux;
    uy = -uy;
  }
  const toLocal = (p: Pt): Pt => [((p[0] - eye[0]) * ux + (p[1] - eye[1]) * uy) / d, ((p[0] - eye[0]) * vx + (p[1] - eye[1]) * vy) / d];
  const toImage = (a: number, b: number): Pt => [eye[0] + (a * ux + b * vx) * d, eye[1] + (a * uy + b * vy) * d];
  return { d, toLocal, toImage, nose: toLocal(nose), eyeSpan: Math.hypot(le[0] - re[0], le[1] - re[1]) / d };
}

/** Outline of the mask in face coordinates (a, b): top edge, then the lower arc round the chin. */
export function maskOutline(lm: ReadonlyArray<Pt>, placement: MaskPlacement, rng: Rng): Pt[] {
  const f = faceFrame(lm);
  const noseB = Math.min(0.8, Math.max(0.35, f.nose[1]));
  const top =
    placement === 'over-nose' ? uniform(rng, 0.22, Math.min(0.42, noseB - 0.1))
    : placement === 'below-nose' ? uniform(rng, noseB + 0.05, noseB + 0.25)
    : uniform(rng, 1.08, 1.22);
  // The chin sits about 1.5–1.6 eye→mouth distances below the eyes.
  const bottom = uniform(rng, 1.45, 1.65);
  // Centre follows the nose on turned faces; half-width about the cheek line.
  const centre = f.nose[0] * 0.6;
  const half = Math.max(0.7, f.eyeSpan * 0.9) * uniform(rng, 0.9, 1.05);
  const side = top + (bottom - top) * uniform(rng, 0.25, 0.45);
  const pts: Pt[] = [];
  const n = 12;
  // Top edge, left → right; a correctly worn mask tents over the nose.
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    const a = centre - half + 2 * half * t;
    const tent = placement === 'over-nose' ? -0.08 * Math.max(0, 1 - Math.abs(2 * t - 1) * 2) : 0;
    pts.push([a, top + tent]);
  }
  // Side down, then the arc under the chin back to the left.
  for (let i = 0; i <= n; i++) {
    const t = (i / n) * Math.PI;
    pts.push([centre + half * Math.cos(t), side + (bottom - side) * Math.sin(t)]);
  }
  return pts.map(([a, b]) => f.toImage(a, b));
}

function insidePolygon(x: number, y: number, poly: Pt[]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * A copy of `frame` with a mask painted at `placement` on the face given by
 * `landmarks` (frame pixels). Antialiased (4×4 samples per pixel), shaded by
 * the face's own luminance so it takes the scene's light, pleats on the
 * surgical colours, a little noise.
 */
export function paintMask(frame: DecodedImage, landmarks: ReadonlyArray<Pt>, placement: MaskPlacement, rng: Rng): DecodedImage {
  const poly = maskOutline(landmarks, placement, rng);
  const f = faceFrame(landmarks);
  const base = PALETTE[Math.floor(rng() * PALETTE.length)]!.map((c) => Math.min(255, Math.max(0, c + uniform(rng, -18, 18))));
  const pleats = rng() < 0.6;
  const data = Buffer.from(frame.data);
  const xs = poly.map((p) => p[0]);
  const ys = poly.map((p) => p[1]);
  const x0 = Math.max(0, Math.floor(Math.min(...xs)));
  const x1 = Math.min(frame.width - 1, Math.ceil(Math.max(...xs)));
  const y0 = Math.max(0, Math.floor(Math.min(...ys)));
  const y1 = Math.min(frame.height - 1, Math.ceil(Math.max(...ys)));
  // Scene light: mean luminance under the mask, relative to a mid-grey face.
  let lum = 0;
  let cnt = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insidePolygon(x + 0.5, y + 0.5, poly)) continue;
      const o = (y * frame.width + x) * 3;
      lum += 0.299 * frame.data[o]! + 0.587 * frame.data[o + 1]! + 0.114 * frame.data[o + 2]!;
      cnt++;
    }
  }
  const light = cnt ? Math.min(1.15, Math.max(0.45, lum / cnt / 140)) : 1;
  const topB = f.toLocal(poly[0]!)[1];
  const botB = Math.max(...poly.map((p) => f.toLocal(p)[1]));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let cover = 0;
      for (let sy = 0; sy < 4; sy++) for (let sx = 0; sx < 4; sx++) if (insidePolygon(x + (sx + 0.5) / 4, y + (sy + 0.5) / 4, poly)) cover++;
      if (!cover) continue;
      const alpha = cover / 16;
      const o = (y * frame.width + x) * 3;
      // Keep some of the face's own shading (folds, shadow), then the mask's pleats.
      const own = (0.299 * frame.data[o]! + 0.587 * frame.data[o + 1]! + 0.114 * frame.data[o + 2]!) / Math.max(1, lum / Math.max(1, cnt));
      let shade = light * (0.8 + 0.2 * Math.min(1.5, own));
      if (pleats) {
        const b = (f.toLocal([x + 0.5, y + 0.5])[1] - topB) / Math.max(1e-6, botB - topB);
        const phase = (b * 3.2) % 1;
        if (phase > 0.85) shade *= 0.85;
      }
      for (let c = 0; c < 3; c++) {
        const v = base[c]! * shade + uniform(rng, -5, 5);
        data[o + c] = Math.round(frame.data[o + c]! * (1 - alpha) + Math.min(255, Math.max(0, v)) * alpha);
      }
    }
  }
  return { data, width: frame.width, height: frame.height };
}
