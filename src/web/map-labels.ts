/**
 * Map label placement (pure, unit-tested): each marker's label goes to the first
 * of a few positions around it that overlaps no other marker or placed label;
 * a long name that fits nowhere is tried again shortened ("Plaza Mayor West…"),
 * and when even that fits nowhere the label is left out (the marker keeps its
 * name in its tooltip and accessible name). Markers are placed in the given order, so callers
 * list the important ones (cameras with an open alert) first.
 */
export interface LabelRequest {
  id: string;
  x: number;
  y: number;
  text: string;
  /** Half the marker's size: labels keep clear of it. */
  radius: number;
}

export interface PlacedLabel {
  id: string;
  x: number;
  y: number;
  anchor: 'start' | 'end' | 'middle';
  /** The text to draw: the request's, or shortened with "…". */
  text: string;
}

/** Characters a shortened label keeps before its "…". */
export const SHORT_LABEL_CHARS = 14;

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Approximate advance of an 11 px system-font character; labels are short, an estimate is enough. */
export const CHAR_WIDTH = 6.4;
export const LABEL_HEIGHT = 12;

const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;

/** `obstacles`: areas drawn over the map (its zoom buttons) that labels keep clear of. */
export function placeLabels(requests: readonly LabelRequest[], width: number, height: number, obstacles: readonly Box[] = []): PlacedLabel[] {
  const taken: Box[] = [...obstacles, ...requests.map((r) => ({ x0: r.x - r.radius, y0: r.y - r.radius, x1: r.x + r.radius, y1: r.y + r.radius }))];
  const placed: PlacedLabel[] = [];
  const inside = (b: Box) => b.x0 >= 0 && b.y0 >= 0 && b.x1 <= width && b.y1 <= height;
  for (const r of requests) {
    const texts = r.text.length > SHORT_LABEL_CHARS + 1 ? [r.text, `${r.text.slice(0, SHORT_LABEL_CHARS).trimEnd()}…`] : [r.text];
    for (const text of texts) {
      const free = positions(r, text).find((c) => inside(c.box) && !taken.some((t) => overlaps(t, c.box)));
      if (!free) continue;
      taken.push(free.box);
      placed.push({ id: r.id, x: free.x, y: free.y, anchor: free.anchor, text });
      break;
    }
  }
  return placed;
}

/** Where a label of `text` can go around its marker, in order of preference: right, left, above, below (baselines). */
function positions(r: LabelRequest, text: string): (Omit<PlacedLabel, 'id' | 'text'> & { box: Box })[] {
  const w = text.length * CHAR_WIDTH;
  const gap = r.radius + 3;
  return [
    { x: r.x + gap, y: r.y + 4, anchor: 'start', box: { x0: r.x + gap, y0: r.y - 8, x1: r.x + gap + w, y1: r.y + 4 } },
    { x: r.x - gap, y: r.y + 4, anchor: 'end', box: { x0: r.x - gap - w, y0: r.y - 8, x1: r.x - gap, y1: r.y + 4 } },
    { x: r.x, y: r.y - gap - 2, anchor: 'middle', box: { x0: r.x - w / 2, y0: r.y - gap - 2 - LABEL_HEIGHT, x1: r.x + w / 2, y1: r.y - gap - 2 } },
    { x: r.x, y: r.y + gap + LABEL_HEIGHT, anchor: 'middle', box: { x0: r.x - w / 2, y0: r.y + gap, x1: r.x + w / 2, y1: r.y + gap + LABEL_HEIGHT } },
  ];
}

/** A zoom level kept within bounds, e.g. after a wheel step. */
export function clampZoom(zoom: number, min = 1, max = 16): number {
  return Math.min(max, Math.max(min, zoom));
}

/**
 * The view centre after zooming from `zoom` to `next` around a canvas point, so
 * the map point under the cursor stays under it. Centre and point in base-map
 * coordinates/canvas pixels respectively; the canvas centre is (w/2, h/2).
 */
export function zoomAround(
  centre: { x: number; y: number },
  zoom: number,
  next: number,
  at: { x: number; y: number },
  width: number,
  height: number,
): { x: number; y: number } {
  // Base-map point under the cursor: centre + (at - canvasCentre) / zoom; keep it fixed.
  const px = centre.x + (at.x - width / 2) / zoom;
  const py = centre.y + (at.y - height / 2) / zoom;
  return { x: px - (at.x - width / 2) / next, y: py - (at.y - height / 2) / next };
}
