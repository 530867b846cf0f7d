/**
 * The one job map: queue names and job payloads. Producers (the API) and
 * processors (workers) both import from here; start-up fails if a job name has no handler.
 */
export const QUEUES = {
  frames: 'frames',
} as const;

/** A frame accepted by the API, stored at `${dataDir}/${path}`. jobId = frameId. */
export interface FrameJob {
  frameId: string;
  cameraId: string;
  /** Relative to the data dir, e.g. frames/<cameraId>/<frameId>.jpg */
  path: string;
  capturedAt: string; // ISO 8601
  receivedAt: string; // ISO 8601
}

export interface JobMap {
  'frame.analyze': FrameJob;
}

export type JobName = keyof JobMap;
