import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import type { AuthService } from '../auth/service.ts';
import type { CameraRepository } from '../db/repositories/cameras.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { FrameProducer } from '../queue/producer.ts';
import type { RealtimeServer } from '../realtime/server.ts';
import type { ApiMetrics } from './metrics.ts';
import type { FrameIngestor } from './ingest/ingest-frame.ts';
import type { DetectionsIngestor } from './ingest/ingest-detections.ts';
import type { CameraGate } from './ingest/camera-gate.ts';
import type { Services } from '../services/index.ts';
import type { SsoClient } from '../auth/sso.ts';

/** What route plugins receive: built once by createApp from its deps. */
export interface ApiContext {
  config: Config;
  auth: AuthService;
  /** The use cases (src/services): routes parse, authorize, call one, shape the response. */
  services: Services;
  /** Resolves when the database answers (readiness). */
  pingDatabase(): Promise<void>;
  cameras: CameraRepository;
  /** Redis cache of camera keys used by ingestion; admin changes must go through it. */
  gate: CameraGate;
  audit: AuditRepository;
  producer: FrameProducer;
  ingest: FrameIngestor;
  /** POST /api/v1/detections (edge agents). */
  ingestDetections: DetectionsIngestor;
  metrics: ApiMetrics;
  logger: Logger;
  /** Present when Socket.IO is attached: lets logout disconnect the session's sockets. */
  io?: RealtimeServer;
  readinessChecks: ReadinessCheck[];
  /** Single sign-on with the agency's directory, when configured (MASKWATCH_SSO_ISSUER). */
  sso?: SsoClient;
}

/** An extra /readyz condition (e.g. "workers have loaded their models" in the start command). */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void> | void;
}
