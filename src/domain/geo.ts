/** Distances on the Earth and nearest-unit ordering for dispatch suggestions (pure). */

export interface LatLon {
  latitude: number;
  longitude: number;
}

/** Mean Earth radius (IUGG), metres. */
const EARTH_RADIUS_M = 6_371_008.8;

export class GeoInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GeoInputError';
  }
}

export function assertLatLon(p: LatLon, what = 'position'): void {
  if (!Number.isFinite(p.latitude) || p.latitude < -90 || p.latitude > 90) {
    throw new GeoInputError(`${what}: latitude must be between -90 and 90, got ${p.latitude}`);
  }
  if (!Number.isFinite(p.longitude) || p.longitude < -180 || p.longitude > 180) {
    throw new GeoInputError(`${what}: longitude must be between -180 and 180, got ${p.longitude}`);
  }
}

const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine; error < 0.5 % from the ellipsoid). */
export function haversineMeters(a: LatLon, b: LatLon): number {
  assertLatLon(a, 'from');
  assertLatLon(b, 'to');
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  // min() guards against h creeping past 1 through rounding for antipodal points.
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface UnitPosition {
  id: string;
  callSign: string;
  status: 'AVAILABLE' | 'BUSY' | 'OFF_DUTY';
  latitude: number | null;
  longitude: number | null;
}

export type RankedUnit<U extends UnitPosition> = U & { distanceMeters: number };

/**
 * Available units with a known position, nearest first (ties by call sign so the
 * list is stable). Units without a position cannot be ranked and are left out.
 */
export function nearestAvailableUnits<U extends UnitPosition>(
  origin: LatLon,
  units: readonly U[],
  limit = Infinity,
): RankedUnit<U>[] {
  assertLatLon(origin, 'origin');
  if (!(limit >= 0)) throw new GeoInputError(`limit must be a non-negative number, got ${limit}`);
  const ranked: RankedUnit<U>[] = [];
  for (const u of units) {
    if (u.status !== 'AVAILABLE' || u.latitude === null || u.longitude === null) continue;
    const position = { latitude: u.latitude, longitude: u.longitude };
    ranked.push({ ...u, distanceMeters: haversineMeters(origin, position) });
  }
  ranked.sort((a, b) => a.distanceMeters - b.distanceMeters || a.callSign.localeCompare(b.callSign));
  return ranked.slice(0, limit);
}
