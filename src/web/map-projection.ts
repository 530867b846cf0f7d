/**
 * Fits camera/unit positions onto the map canvas. Without a tile server (the
 * default, works offline): equirectangular, longitude shrunk by cos(latitude)
 * so distances look right. With one: Web Mercator at a whole zoom level, plus
 * the tiles that cover the canvas.
 */
export interface GeoPoint {
  latitude: number;
  longitude: number;
}

export interface Projection {
  project(p: GeoPoint): { x: number; y: number };
  /** Metres per canvas pixel, for a scale bar. */
  metersPerPixel: number;
}

const EARTH_RADIUS_M = 6_371_000;

export function fitProjection(points: readonly GeoPoint[], width: number, height: number, pad = 24): Projection {
  const valid = points.filter((p) => Number.isFinite(p.latitude) && Number.isFinite(p.longitude));
  if (valid.length === 0) {
    return { project: () => ({ x: width / 2, y: height / 2 }), metersPerPixel: 1 };
  }
  const lats = valid.map((p) => p.latitude);
  const lons = valid.map((p) => p.longitude);
  const minLat = Math.min(...lats);
  const maxLat = Math.max(...lats);
  const minLon = Math.min(...lons);
  const maxLon = Math.max(...lons);
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  // Spans in "degrees of latitude"; a floor keeps one point (or a tight cluster) from blowing up the scale.
  const minSpan = 0.002;
  const spanX = Math.max((maxLon - minLon) * k, minSpan);
  const spanY = Math.max(maxLat - minLat, minSpan);
  const scale = Math.min((width - 2 * pad) / spanX, (height - 2 * pad) / spanY);
  const cx = ((minLon + maxLon) / 2) * k;
  const cy = (minLat + maxLat) / 2;
  return {
    project: (p) => ({
      x: width / 2 + (p.longitude * k - cx) * scale,
      y: height / 2 - (p.latitude - cy) * scale,
    }),
    metersPerPixel: ((Math.PI / 180) * EARTH_RADIUS_M) / scale,
  };
}

/** One 256-px map tile placed on the canvas. */
export interface PlacedTile {
  z: number;
  x: number;
  y: number;
  /** Canvas position of the tile's top-left corner. */
  left: number;
  top: number;
}

export const TILE_SIZE = 256;

/** Web Mercator world pixel of a point at zoom z (the slippy-map tile scheme). */
export function worldPixel(p: GeoPoint, z: number): { x: number; y: number } {
  const size = TILE_SIZE * 2 ** z;
  const lat = Math.max(-85.05112878, Math.min(85.05112878, p.latitude));
  const s = Math.sin((lat * Math.PI) / 180);
  return {
    x: ((p.longitude + 180) / 360) * size,
    y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * size,
  };
}

/**
 * Fits the points into the canvas at the largest whole zoom (≤ maxZoom) where
 * they all fit inside the padding, in Web Mercator, and lists the tiles that
 * cover the canvas — for a configured tile server.
 */
export function fitTiles(
  points: readonly GeoPoint[],
  width: number,
  height: number,
  maxZoom: number,
  pad = 24,
): Projection & { zoom: number; tiles: PlacedTile[]; origin: { x: number; y: number } } {
  const valid = points.filter((p) => Number.isFinite(p.latitude) && Number.isFinite(p.longitude));
  const centreOf = (z: number) => {
    if (valid.length === 0) return { x: (TILE_SIZE * 2 ** z) / 2, y: (TILE_SIZE * 2 ** z) / 2, fits: true };
    const px = valid.map((p) => worldPixel(p, z));
    const minX = Math.min(...px.map((q) => q.x));
    const maxX = Math.max(...px.map((q) => q.x));
    const minY = Math.min(...px.map((q) => q.y));
    const maxY = Math.max(...px.map((q) => q.y));
    return { x: (minX + maxX) / 2, y: (minY + maxY) / 2, fits: maxX - minX <= width - 2 * pad && maxY - minY <= height - 2 * pad };
  };
  // A lone camera (or none) gets a street-level view, not the tile server's deepest zoom.
  let zoom = valid.length <= 1 ? Math.min(maxZoom, valid.length === 0 ? 1 : 16) : maxZoom;
  while (zoom > 0 && !centreOf(zoom).fits) zoom--;
  const c = centreOf(zoom);
  // Whole-pixel origin: tiles land on pixel boundaries, with no hairline seams between them.
  const originX = Math.round(c.x - width / 2);
  const originY = Math.round(c.y - height / 2);
  const n = 2 ** zoom;
  const tiles: PlacedTile[] = [];
  for (let ty = Math.max(0, Math.floor(originY / TILE_SIZE)); ty <= Math.min(n - 1, Math.floor((originY + height) / TILE_SIZE)); ty++) {
    for (let tx = Math.floor(originX / TILE_SIZE); tx <= Math.floor((originX + width) / TILE_SIZE); tx++) {
      // Longitude wraps around: tile column modulo 2^z.
      tiles.push({ z: zoom, x: ((tx % n) + n) % n, y: ty, left: tx * TILE_SIZE - originX, top: ty * TILE_SIZE - originY });
    }
  }
  const lat = valid.length ? valid.reduce((a, p) => a + p.latitude, 0) / valid.length : 0;
  return {
    zoom,
    tiles,
    /** World pixel (at `zoom`) of the canvas's top-left corner. */
    origin: { x: originX, y: originY },
    project: (p) => {
      const w = worldPixel(p, zoom);
      return { x: w.x - originX, y: w.y - originY };
    },
    metersPerPixel: (2 * Math.PI * EARTH_RADIUS_M * Math.cos((lat * Math.PI) / 180)) / (TILE_SIZE * n),
  };
}

/** A tile URL from a {z}/{x}/{y} template. */
export function tileUrl(template: string, t: Pick<PlacedTile, 'z' | 'x' | 'y'>): string {
  return template.replaceAll('{z}', String(t.z)).replaceAll('{x}', String(t.x)).replaceAll('{y}', String(t.y));
}
