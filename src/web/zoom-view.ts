/**
 * Where to put a zoomed frame so that a point of interest (the selected
 * person's centre) is in the middle of the view, without showing anything
 * outside the frame. The frame fills the view at scale 1; the transform is
 * `translate(tx%, ty%) scale(scale)` with the origin at the top-left corner,
 * and percentages are of the frame's own size.
 */
export function centredZoom(scale: number, centre: { x: number; y: number }): { tx: number; ty: number } {
  /** Offset along one axis: the centre lands at 50 %, clamped so the frame still covers [0, 100 %]. */
  const axis = (c: number) => Math.min(0, Math.max(100 - 100 * scale, 50 - scale * c * 100));
  return { tx: axis(centre.x), ty: axis(centre.y) };
}
