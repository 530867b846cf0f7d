/**
 * The API's use cases, built once from the repositories and the announcer.
 * Routes call these; worker handlers and CLI commands build the ones they need
 * from the same factories.
 */
import type { Logger } from 'pino';
import type { AuthService } from '../auth/service.ts';
import type { Repositories } from '../db/repositories/index.ts';
import type { PasswordAttempts } from '../auth/password-attempts.ts';
import type { SecondFactor } from '../auth/second-factor.ts';
import type { KeyPurpose } from '../system/secret-key.ts';
import { createAccountService, sessionEnder, type SessionSockets } from './accounts.ts';
import { createAlertService } from './alerts.ts';
import { createDirectorySignOn } from './directory-sign-on.ts';
import { createProvisioningService } from './provisioning.ts';
import { createEvidenceHoldService } from './evidence-holds.ts';
import type { Role } from '../contracts/vocabulary.ts';
import type { DirectoryGroupMap } from '../auth/directory-groups.ts';
import type { ZoneSetting } from '../domain/zone-coverage.ts';
import { createAuditLogService } from './audit-log.ts';
import { createAuditSealService } from './audit-seals.ts';
import type { Announcer } from './announcer.ts';
import type { UnitEventPublisher } from '../realtime/publisher.ts';
import { createCameraService, type CameraKeyCache } from './cameras.ts';
import { createEvidenceService, type RenderAlertFrame } from './evidence.ts';
import { createEvidencePackageService } from './evidence-package.ts';
import { evidenceSigner } from '../system/evidence-signer.ts';
import { createExportService } from './exports.ts';
import { createPeopleService } from './people.ts';
import { createPrivacyService } from './privacy.ts';
import { createSnapshotService } from './snapshots.ts';
import { createStatsService } from './stats.ts';
import { createTwoFactorService } from './two-factor.ts';
import { createUnitService } from './units.ts';
import { createUserService } from './users.ts';
import { createViolationService } from './violations.ts';
import { createZoneService } from './zones.ts';
import { createWebhookDeliveryService } from './webhook-deliveries.ts';
import { createSystemCheckService } from './system-checks.ts';
import type { CheckResult } from '../domain/deployment-checks.ts';
import type { Instance } from '../contracts/api.ts';

export interface ServiceDeps {
  repos: Repositories;
  announcer: Announcer;
  auth: Pick<AuthService, 'createUser' | 'ssoAccount'>;
  /** Roles and zones from the directory's groups at each single sign-on (MASKWATCH_SSO_*_GROUPS); null: MaskWatch's. */
  ssoGroups: DirectoryGroupMap | null;
  /** The roles SCIM provisioning may give and take away (MASKWATCH_SCIM_ROLES). */
  scimRoles: readonly Role[];
  /** The zones the settings name, shown in Admin › Zones (src/config/config.ts zonesInSettings). */
  zoneSettings: readonly ZoneSetting[];
  /** The ingestion key cache admin changes go through. */
  gate: CameraKeyCache;
  /** Live unit board (sockets); absent in processes without sockets. */
  unitEvents?: UnitEventPublisher;
  /** Disconnects a user's sockets on every instance when their account changes. */
  sessionSockets?: SessionSockets;
  /** Throttle of the self-service password change (Redis, shared by instances). */
  passwordAttempts: PasswordAttempts;
  /** TOTP checks and the MFA policy, shared with the auth service's login. */
  secondFactor: SecondFactor;
  /** Keys derived from the server's secret key (src/system/secret-key.ts). */
  secretKeys: (purpose: KeyPurpose) => Promise<Buffer>;
  dataDir: string;
  /** Days to the review of an evidence hold set without a date (MASKWATCH_EVIDENCE_HOLD_REVIEW_DAYS). */
  holdReviewDays: number;
  /** Renders an alert's view of a stored frame (src/vision/render.ts renderAlertFrame, bound to the pixel limit). */
  renderAlertFrame: RenderAlertFrame;
  /** The deployment checks as this instance runs them (src/system/doctor.ts runDoctor, without the models). */
  deploymentChecks: () => Promise<CheckResult[]>;
  /** The API and worker processes announcing themselves (src/system/instance-beacon.ts listInstances). */
  instances: () => Promise<Instance[]>;
  logger: Logger;
  now?: () => Date;
}

export function createServices(deps: ServiceDeps) {
  const { repos, now } = deps;
  const accounts = createAccountService({
    users: repos.users,
    keys: repos.securityKeys,
    securityKeyRoles: deps.secondFactor.securityKeyRoles,
    sessions: repos.sessions,
    audit: repos.audit,
    sockets: deps.sessionSockets,
    passwordAttempts: deps.passwordAttempts,
    logger: deps.logger,
    now,
  });
  const alerts = createAlertService({ alerts: repos.alerts, audit: repos.audit, dispatch: repos.dispatch, units: repos.units, announcer: deps.announcer, now });
  const evidence = createEvidenceService({ evidence: repos.evidence, audit: repos.audit, dataDir: deps.dataDir, render: deps.renderAlertFrame });
  const auditLog = createAuditLogService({ audit: repos.audit, evidence: repos.evidence, users: repos.users, cameras: repos.cameras, now });
  return {
    accounts,
    provisioning: createProvisioningService({ users: repos.users, accounts, auth: deps.auth, roles: deps.scimRoles }),
    directorySignOn: createDirectorySignOn({ auth: deps.auth, accounts, users: repos.users, audit: repos.audit, groups: deps.ssoGroups }),
    auditSeals: createAuditSealService({ audit: repos.audit, key: () => deps.secretKeys('audit seals'), now }),
    auditLog,
    alerts,
    cameras: createCameraService({ cameras: repos.cameras, audit: repos.audit, gate: deps.gate, alerts: repos.alerts, announcer: deps.announcer }),
    evidence,
    evidencePackages: createEvidencePackageService({
      alerts: repos.alerts,
      people: repos.people,
      privacy: repos.privacy,
      audit: repos.audit,
      timeline: alerts.timeline,
      renderFrame: evidence.renderedFrame,
      custody: auditLog.custody,
      signer: evidenceSigner(deps.secretKeys),
      dataDir: deps.dataDir,
      now,
    }),
    exports: createExportService({ violations: repos.violations, cameras: repos.cameras, units: repos.units, audit: repos.audit }),
    people: createPeopleService({ alerts: repos.alerts, people: repos.people, announcer: deps.announcer, now }),
    evidenceHolds: createEvidenceHoldService({ privacy: repos.privacy, users: repos.users, audit: repos.audit, reviewDays: deps.holdReviewDays, now }),
    privacy: createPrivacyService({ privacy: repos.privacy, audit: repos.audit, dataDir: deps.dataDir, logger: deps.logger, now }),
    snapshots: createSnapshotService({ alerts: repos.alerts, audit: repos.audit }),
    stats: createStatsService({ stats: repos.stats, now }),
    twoFactor: createTwoFactorService({
      users: repos.users,
      keys: repos.securityKeys,
      audit: repos.audit,
      secondFactor: deps.secondFactor,
      attempts: deps.passwordAttempts,
      endSessions: sessionEnder({ sessions: repos.sessions, sockets: deps.sessionSockets, logger: deps.logger, now }),
      logger: deps.logger,
      now,
    }),
    units: createUnitService({ units: repos.units, audit: repos.audit, unitEvents: deps.unitEvents, now }),
    users: createUserService({ users: repos.users, units: repos.units, keys: repos.securityKeys, auth: deps.auth, securityKeyRoles: deps.secondFactor.securityKeyRoles }),
    violations: createViolationService({ violations: repos.violations }),
    zones: createZoneService({ zones: repos.zones, audit: repos.audit, settings: deps.zoneSettings, alerts: repos.alerts, announcer: deps.announcer }),
    webhookDeliveries: createWebhookDeliveryService({ audit: repos.audit }),
    systemChecks: createSystemCheckService({ run: deps.deploymentChecks, instances: deps.instances, now }),
  };
}

export type Services = ReturnType<typeof createServices>;
