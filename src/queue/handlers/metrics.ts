import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one worker process, on its own registry (no global state). */
export function createWorkerMetrics(opts: { registry?: Registry; defaultMetrics?: boolean } = {}) {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'maskwatch_worker_' });
  return {
    registry,
    inferenceSeconds: new Histogram({
      name: 'maskwatch_inference_seconds',
      help: 'analyzeFrame latency per frame',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1, 2, 5],
      registers: [registry],
    }),
    framesProcessed: new Counter({
      name: 'maskwatch_frames_processed_total',
      help: 'Frames finished by this worker, by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    violations: new Counter({
      name: 'maskwatch_violations_total',
      help: 'Violations stored (no-mask faces)',
      registers: [registry],
    }),
    framesStale: new Counter({
      name: 'maskwatch_frames_stale_skipped_total',
      help: 'Frames skipped without analysis because they waited longer than MASKWATCH_MAX_FRAME_AGE_S',
      registers: [registry],
    }),
    framesUnchanged: new Counter({
      name: 'maskwatch_frames_unchanged_total',
      help: 'Frames whose detection was skipped because they looked like the camera\'s last analysed frame (MASKWATCH_UNCHANGED_THRESHOLD)',
      registers: [registry],
    }),
    facesClassified: new Counter({
      name: 'maskwatch_faces_classified_total',
      help: 'Faces run through the mask classifier',
      registers: [registry],
    }),
    facesReused: new Counter({
      name: 'maskwatch_faces_reused_total',
      help: 'Faces whose verdict was carried over from the previous frame instead of classified: track (matched, confident face) or unchanged_frame (detection skipped)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    alertsCreated: new Counter({
      name: 'maskwatch_alerts_created_total',
      help: 'Alerts created (new tracks)',
      registers: [registry],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

export type FrameOutcome = 'violations' | 'clean' | 'corrupt' | 'missing' | 'already_processed' | 'stale';
