/**
 * Snapshot files live under `${dataDir}/snapshots/…`; the database stores their
 * path relative to the data dir (e.g. `snapshots/<cameraId>/<id>-face.jpg`).
 * Clients fetch them from `/api/v1/snapshots/<path below snapshots/>` with their
 * login token as a bearer header (never in the URL). Shared by API and workers.
 */
export const SNAPSHOT_ROUTE_PREFIX = '/api/v1/snapshots/';

export function snapshotUrl(relativePath: string | null | undefined): string | null {
  if (!relativePath) return null;
  const rel = relativePath.replace(/\\/g, '/').replace(/^\/+/, '').replace(/^snapshots\//, '');
  return SNAPSHOT_ROUTE_PREFIX + rel.split('/').map(encodeURIComponent).join('/');
}
