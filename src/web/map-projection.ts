/**
 * Fits camera/unit positions onto a plain SVG canvas (no tiles, works offline):
 * equirectangular with longitude shrunk by cos(latitude) so distances look right.
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
