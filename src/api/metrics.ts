import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Logger } from 'pino';
import { CAMERA_HEALTH_STATES, cameraHealth } from '../domain/camera-health.ts';
import type { ZoneCoverage } from '../domain/zone-coverage.ts';
import { instanceSpread, type CheckResult } from '../domain/deployment-checks.ts';
import type { Instance } from '../contracts/api.ts';
import { INSTANCE_KINDS } from '../contracts/vocabulary.ts';

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

/** The `zone` label of the cameras without a zone (an empty label value would read as no label at all). */
export const NO_ZONE_LABEL = '(no zone)';

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
  /** Who sees which zone's alerts (domain/zone-coverage.ts). */
  zones?: () => Promise<ZoneCoverage[]>;
  /** Evidence holds by review state (services/evidence-holds.ts). */
  evidenceHolds?: () => Promise<{ due: number; notDue: number }>;
  /** Work the workers saved (queue/analysis-state.ts): frames skipped as unchanged, faces classified and reused. */
  analysisWork?: () => Promise<{ framesUnchanged: number; facesClassified: number; facesReused: number }>;
  /** Redis's settings judged against what MaskWatch requires (domain/deployment-checks.ts redisSettingsChecks). */
  redisRequirements?: () => Promise<CheckResult[]>;
  /** The API and worker processes announcing themselves (system/instance-beacon.ts listInstances). */
  instances?: () => Promise<Instance[]>;
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
  /** A gauge read from a source at scrape time; a failing source is logged and leaves the gauge as it was. */
  function scraped<L extends string>(gauge: { name: string; help: string; labelNames?: readonly L[]; what: string }, read: ((g: Gauge<L>) => Promise<void>) | undefined): void {
    new Gauge<L>({
      name: gauge.name,
      help: gauge.help,
      labelNames: gauge.labelNames ?? [],
      registers: [registry],
      async collect() {
        if (!read) return;
        try {
          await read(this);
        } catch (err) {
          sources.logger.warn({ err: (err as Error).message }, `metrics: ${gauge.what} unavailable`);
        }
      },
    });
  }
  const { jobCounts, frameWorkers, alertCounts, staleFrames, cameraHealth: health, analysisWork, zones, evidenceHolds, redisRequirements, instances } = sources;

  scraped(
    { name: 'maskwatch_queue_jobs', help: 'Jobs in the frames queue, by state (read at scrape time)', labelNames: ['state'], what: 'queue counts' },
    jobCounts &&
      (async (g) => {
        for (const [state, n] of Object.entries(await jobCounts())) g.set({ state }, n);
      }),
  );
  scraped(
    {
      name: 'maskwatch_redis_requirement_met',
      help:
        'Redis settings MaskWatch requires, 1 when met (INFO, read at scrape time): persistence (the append-only file; without it a Redis restart ' +
        'loses accepted frames), eviction (maxmemory-policy noeviction), version (6.2 or later)',
      labelNames: ['requirement'],
      what: 'redis settings',
    },
    redisRequirements &&
      (async (g) => {
        for (const r of await redisRequirements()) g.set({ requirement: r.name.replace(/^redis /, '') }, r.status === 'ok' ? 1 : 0);
      }),
  );
  scraped(
    {
      name: 'maskwatch_instances',
      help: 'API and worker processes announcing themselves on this Redis and queue prefix, by kind (read at scrape time)',
      labelNames: ['kind'],
      what: 'instances',
    },
    instances &&
      (async (g) => {
        const list = await instances();
        for (const kind of INSTANCE_KINDS) g.set({ kind }, list.filter((i) => i.kind === kind).length);
      }),
  );
  scraped(
    {
      name: 'maskwatch_instances_distinct',
      help:
        'Different values of a setting every instance must share, across the running instances (1 is right): secret_key (instances with another ' +
        'secret key cannot check each other\'s audit seals, two-factor secrets or evidence signatures), release, retention_days, incorrect_mask',
      labelNames: ['setting'],
      what: 'instance settings',
    },
    instances &&
      (async (g) => {
        for (const [setting, n] of Object.entries(instanceSpread(await instances()))) g.set({ setting }, n);
      }),
  );
  scraped(
    {
      name: 'maskwatch_queue_workers',
      help: 'Workers connected to the frames queue, on any host (read at scrape time): alert when 0 while frames arrive',
      what: 'worker count',
    },
    frameWorkers && (async (g) => g.set(await frameWorkers())),
  );
  scraped(
    { name: 'maskwatch_alerts', help: 'Alerts in the database, by status (read at scrape time)', labelNames: ['status'], what: 'alert counts' },
    alertCounts &&
      (async (g) => {
        for (const [status, n] of Object.entries(await alertCounts())) g.set({ status }, n);
      }),
  );
  scraped(
    {
      name: 'maskwatch_camera_frames_stale_skipped',
      help: 'Frames skipped by the workers as older than MASKWATCH_MAX_FRAME_AGE_S, per camera (cumulative, read at scrape time)',
      labelNames: ['camera'],
      what: 'stale frame counts',
    },
    staleFrames &&
      (async (g) => {
        for (const [camera, n] of Object.entries(await staleFrames())) g.set({ camera }, n);
      }),
  );
  scraped(
    {
      name: 'maskwatch_cameras',
      help: 'Cameras by state (read at scrape time): live, silent (enabled, has sent frames, none for MASKWATCH_CAMERA_SILENT_S), no_frame (enabled, never sent one), disabled',
      labelNames: ['state'],
      what: 'camera states',
    },
    health &&
      (async (g) => {
        const counts = new Map(CAMERA_HEALTH_STATES.map((state) => [state, 0]));
        const now = Date.now();
        for (const c of await health.cameras()) {
          const state = cameraHealth(c, now, health.silentSeconds);
          counts.set(state, counts.get(state)! + 1);
        }
        for (const [state, n] of counts) g.set({ state }, n);
      }),
  );
  scraped(
    {
      name: 'maskwatch_zone_dispatchers',
      help: 'Enabled dispatchers who see the alerts of each zone with cameras (zone "(no zone)": the cameras without one; read at scrape time): alert when 0, its alerts reach admins only',
      labelNames: ['zone'],
      what: 'zone coverage',
    },
    zones &&
      (async (g) => {
        const rows = await zones();
        g.reset(); // a zone renamed or emptied since the last scrape leaves the series
        for (const z of rows) if (z.cameras > 0) g.set({ zone: z.zone ?? NO_ZONE_LABEL }, z.dispatchers);
      }),
  );
  scraped(
    {
      name: 'maskwatch_evidence_holds',
      help: 'Alerts whose evidence is kept past retention, by review state (read at scrape time): review="due" = its review date has passed; an admin keeps or releases it',
      labelNames: ['review'],
      what: 'evidence holds',
    },
    evidenceHolds &&
      (async (g) => {
        const { due, notDue } = await evidenceHolds();
        g.set({ review: 'due' }, due);
        g.set({ review: 'not_due' }, notDue);
      }),
  );
  scraped(
    {
      name: 'maskwatch_camera_last_frame_age_seconds',
      help: "Seconds since each enabled camera's last accepted frame (read at scrape time; written every ~10 s per camera): alert on it for cameras gone quiet",
      labelNames: ['camera'],
      what: 'camera frame ages',
    },
    health &&
      (async (g) => {
        const cameras = await health.cameras();
        g.reset(); // a camera disabled or deleted since the last scrape leaves the series
        const now = Date.now();
        for (const c of cameras) if (c.enabled && c.lastFrameAt) g.set({ camera: c.id }, Math.max(0, (now - c.lastFrameAt.getTime()) / 1000));
      }),
  );
  scraped(
    {
      name: 'maskwatch_analysis_work',
      help:
        'Analysis work of all workers (cumulative, read at scrape time): frames_unchanged = detection skipped as unchanged ' +
        '(MASKWATCH_UNCHANGED_THRESHOLD), faces_classified, faces_reused = verdict carried over (MASKWATCH_RECLASSIFY_EVERY)',
      labelNames: ['kind'],
      what: 'analysis work counts',
    },
    analysisWork &&
      (async (g) => {
        const w = await analysisWork();
        g.set({ kind: 'frames_unchanged' }, w.framesUnchanged);
        g.set({ kind: 'faces_classified' }, w.facesClassified);
        g.set({ kind: 'faces_reused' }, w.facesReused);
      }),
  );
  return {
    registry,
    frameReceived: () => framesReceived.inc(),
    frameAccepted: () => framesAccepted.inc(),
    frameRejected: (reason: RejectReason) => framesRejected.inc({ reason }),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
