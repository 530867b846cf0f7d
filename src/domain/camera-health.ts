/**
 * Whether a camera has gone quiet: an enabled camera that has sent frames, but none for longer than the
 * deployment's limit (MASKWATCH_CAMERA_SILENT_S), is silent — unplugged, tampered with or cut off. A camera
 * that never sent a frame is not yet installed, not silent. Pure: the API's metrics and the dashboard share it.
 */

export type CameraHealth = 'live' | 'silent' | 'no_frame' | 'disabled';

export const CAMERA_HEALTH_STATES: readonly CameraHealth[] = ['live', 'silent', 'no_frame', 'disabled'];

/** `silentSeconds` 0 switches the check off (every enabled camera with a frame is live). */
export function cameraHealth(c: { enabled: boolean; lastFrameAt: Date | string | null }, nowMs: number, silentSeconds: number): CameraHealth {
  if (!c.enabled) return 'disabled';
  if (c.lastFrameAt === null) return 'no_frame';
  const last = typeof c.lastFrameAt === 'string' ? Date.parse(c.lastFrameAt) : c.lastFrameAt.getTime();
  return silentSeconds > 0 && nowMs - last > silentSeconds * 1000 ? 'silent' : 'live';
}
