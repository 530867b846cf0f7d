/**
 * The one job map: queue names and job payloads. Producers (the API) and
 * processors (workers) both import from here; start-up fails if a job name has no handler.
 */
export const QUEUES = {
  frames: 'frames',
  /** Alert timers (escalation): a queue of its own so they never wait behind a frame backlog. */
  alerts: 'alerts',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** A frame accepted by the API, stored at `${dataDir}/${path}`. jobId = frameId. */
export interface FrameJob {
  frameId: string;
  cameraId: string;
  /** Relative to the data dir, e.g. frames/<cameraId>/<frameId>.jpg */
  path: string;
  capturedAt: string; // ISO 8601
  receivedAt: string; // ISO 8601
}

/** A delayed escalation check (src/domain/escalation.ts); jobId = escalationJobId(plan). */
export interface EscalationJob {
  alertId: string;
  /** Escalate only if the alert is still in this status… */
  expectStatus: 'NEW' | 'DISPATCHED';
  /** …and still at this escalation level when the job fires. */
  level: number;
}

export interface JobMap {
  'frame.analyze': FrameJob;
  'alert.escalate': EscalationJob;
}

export type JobName = keyof JobMap;

/** The queue each job name is added to (and consumed from). */
export const JOB_QUEUE = {
  'frame.analyze': QUEUES.frames,
  'alert.escalate': QUEUES.alerts,
} as const satisfies Record<JobName, QueueName>;

/** The job names of one queue. */
export type JobNameOf<Q extends QueueName> = { [N in JobName]: (typeof JOB_QUEUE)[N] extends Q ? N : never }[JobName];
