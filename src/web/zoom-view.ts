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

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * The part of a frame that shows a person as an officer looks for them: the face and, below it, shoulders and
 * clothes — about three face widths wide, from half a face above the head, `aspect` (width / height) in shape.
 * Kept inside the frame: shifted at its edges, and smaller when the frame itself is.
 */
export function personContext(face: Region, frame: { width: number; height: number }, aspect: number): Region {
  let width = Math.min(face.width * 3.2, frame.width);
  let height = width / aspect;
  if (height > frame.height) {
    height = frame.height;
    width = height * aspect;
  }
  const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);
  return {
    x: clamp(face.x + face.width / 2 - width / 2, frame.width - width),
    y: clamp(face.y - face.height / 2, frame.height - height),
    width,
    height,
  };
}
