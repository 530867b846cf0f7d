import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { CAMERA_HEALTH_STATES, cameraHealth } from '../domain/camera-health.ts';

export type RejectReason =
  | 'unauthorized'
  | 'camera_disabled'
  | 'unsupported_type'
  | 'too_large'
  | 'bad_dimensions'
  | 'bad_captured_at'
  | 'backlog_full'
  | 'queue_unavailable'
  | 'storage_error'
  | 'bad_detections'
  | 'bad_crop';

export interface ApiMetricsSources {
  /** Job counts of the frames queue by state. */
  jobCounts?: () => Promise<Record<string, number>>;
  /** Worker processes connected to the frames queue. */
  frameWorkers?: () => Promise<number>;
  /** Alert counts by status (from the database). */
  alertCounts?: () => Promise<Record<string, number>>;
  /** Frames the workers skipped as stale, per camera (queue/freshness.ts). */
  staleFrames?: () => Promise<Record<string, number>>;
  /** Every camera's state for the silent-camera check (domain/camera-health.ts), and its limit. */
  cameraHealth?: { cameras: () => Promise<{ id: string; enabled: boolean; lastFrameAt: Date | null }[]>; silentSeconds: number };
  /** Work the workers saved (queue/analysis-state.ts): frames skipped as unchanged, faces classified and reused. */
  analysisWork?: () => Promise<{ framesUnchanged: number; facesClassified: number; facesReused: number }>;
  logger: Logger;
}

/**
 * The API's Prometheus metrics, on a registry of its own (never the global one)
 * so several app instances can live in one test process.
 */
export function createApiMetrics(registry: Registry, sources: ApiMetricsSources) {
  collectDefaultMetrics({ register: registry, prefix: 'maskwatch_api_' });
  const framesReceived = new Counter({
    name: 'maskwatch_frames_received_total',
    help: 'Frames POSTed to /api/v1/frames (accepted or not)',
    registers: [registry],
  });
  const framesAccepted = new Counter({
    name: 'maskwatch_frames_accepted_total',
    help: 'Frames stored and enqueued (answered 202)',
    registers: [registry],
  });
  const framesRejected = new Counter({
    name: 'maskwatch_frames_rejected_total',
    help: 'Frames refused, by reason',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'maskwatch_queue_jobs',
    help: 'Jobs in the frames queue, by state (read at scrape time)',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      if (!sources.jobCounts) return;
      try {
        for (const [state, n] of Object.entries(await sources.jobCounts())) this.set({ state }, n);
      } catch (err) {
        sources.logger.warn({ err: (err as Error).message }, 'metrics: queue counts unavailable');
      }
    },
  });
  new Gauge({
    name: 'maskwatch_queue_workers',
    help: 'Workers connected to the frames queue, on any host (read at scrape time): alert when 0 while frames arrive',
    registers: [registry],
    async collect() {
      if (!sources.frameWorkers) return;
      try {
        this.set(await sources.frameWorkers());
      } catch (err) {
        sources.logger.warn({ err: (err as Error).message }, 'metrics: worker count unavailable');
      }
    },
  });
  new Gauge({
    name: 'maskwatch_alerts',
    help: 'Alerts in the database, by status (read at scrape time)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      if (!sources.alertCounts) return;
      try {
        for (const [status, n] of Object.entries(await sources.alertCounts())) this.set({ status }, n);
      } catch (err) {
        sources.logger.warn({ err: (err as Error).message }, 'metrics: alert counts unavailable');
      }
    },
  });
  new Gauge({
    name: 'maskwatch_camera_frames_stale_skipped',
    help: 'Frames skipped by the workers as older than MASKWATCH_MAX_FRAME_AGE_S, per camera (cumulative, read at scrape time)',
    labelNames: ['camera'] as const,
    registers: [registry],
    async collect() {
      if (!sources.staleFrames) return;
      try {
        for (const [camera, n] of Object.entries(await sources.staleFrames())) this.set({ camera }, n);
      } catch (err) {
        sources.logger.warn({ err: (err as Error).message }, 'metrics: stale frame counts unavailable');
      }
    },
  });
  new Gauge({
    name: 'maskwatch_cameras',
    help: 'Cameras by state (read at scrape time): live, silent (enabled, has sent frames, none for MASKWATCH_CAMERA_SILENT_S), no_frame (enabled, never sent one), disabled',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const health = sources.cameraHealth;
      if (!health) return;
      try {
        const counts = Object.fromEntries(CAMERA_HEALTH_STATES.map((state) => [state, 0]));
        const now = Date.now();
        for (const c of await health.cameras()) counts[cameraHealth(c, now, health.silentSeconds)]! += 1;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      } catch (err) {
        sources.logger.warn({ err: (err as Error).message }, 'metrics: camera states unavailable');
      }
    },
  });
  new Gauge({
    name: 'maskwatch_camera_last_frame_age_seconds',
    help: "Seconds since each enabled camera's last accepted frame (read at scrape time; written every ~10 s per camera): alert on it for cameras gone quiet",
    labelNames: ['camera'] as const,
    registers: [registry],
    async collect() {
      if (!sources.cameraHealth) return;
      try {
        this.reset(); // a camera disabled or deleted since the last scrape leaves the series
        const now = Date.now();
        for (const c of await sources.cameraHealth.cameras()) {
          if (c.enabled && c.lastFrameAt) this.set({ camera: c.id }, Math.max(0, (now - c.lastFrameAt.getTime()) / 1000));
        }
      } catch (err) {
        sources.logger.warn({ err: (err as Error).message }, 'metrics: camera frame ages unavailable');
      }
    },
  });
  new Gauge({
    name: 'maskwatch_analysis_work',
    help:
      'Analysis work of all workers (cumulative, read at scrape time): frames_unchanged = detection skipped as unchanged ' +
      '(MASKWATCH_UNCHANGED_THRESHOLD), faces_classified, faces_reused = verdict carried over (MASKWATCH_RECLASSIFY_EVERY)',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      if (!sources.analysisWork) return;
      try {
        const w = await sources.analysisWork();
        this.set({ kind: 'frames_unchanged' }, w.framesUnchanged);
        this.set({ kind: 'faces_classified' }, w.facesClassified);
        this.set({ kind: 'faces_reused' }, w.facesReused);
      } catch (err) {
        sources.logger.warn({ err: (err as Error).message }, 'metrics: analysis work counts unavailable');
      }
    },
  });
  return {
    registry,
    frameReceived: () => framesReceived.inc(),
    frameAccepted: () => framesAccepted.inc(),
    frameRejected: (reason: RejectReason) => framesRejected.inc({ reason }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
