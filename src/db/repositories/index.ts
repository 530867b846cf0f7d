/**
 * Every repository over one database handle. Repositories are the only code
 * that touches Prisma; services receive them from here.
 */
import type { PrismaClient } from '../generated/sqlite/client.ts';
import type { Provider } from '../url.ts';
import { createAlertRepository } from './alerts.ts';
import { createAuditRepository } from './audit.ts';
import { createCameraRepository } from './cameras.ts';
import { createDispatchRepository } from './dispatch.ts';
import { createEvidenceRepository } from './evidence.ts';
import { createIncidentRepository, createPeopleRepository } from './incidents.ts';
import { createPrivacyRepository } from './privacy.ts';
import { createSecurityKeyRepository } from './security-keys.ts';
import { createSessionRepository } from './sessions.ts';
import { createStatsRepository } from './stats.ts';
import { createUnitRepository } from './units.ts';
import { createUserRepository } from './users.ts';
import { createViolationRepository } from './violations.ts';
import { createZoneRepository } from './zones.ts';

/** `provider` saves one probe query for the provider-specific statistics SQL; asked when omitted. */
export function createRepositories(prisma: PrismaClient, provider?: Provider) {
  return {
    alerts: createAlertRepository(prisma),
    audit: createAuditRepository(prisma),
    cameras: createCameraRepository(prisma),
    dispatch: createDispatchRepository(prisma),
    evidence: createEvidenceRepository(prisma),
    incidents: createIncidentRepository(prisma),
    people: createPeopleRepository(prisma),
    privacy: createPrivacyRepository(prisma),
    securityKeys: createSecurityKeyRepository(prisma),
    sessions: createSessionRepository(prisma),
    stats: createStatsRepository(prisma, provider),
    units: createUnitRepository(prisma),
    users: createUserRepository(prisma),
    zones: createZoneRepository(prisma),
    violations: createViolationRepository(prisma),
    /** Answers when the database does (readiness). */
    async ping(): Promise<void> {
      await prisma.$queryRawUnsafe('SELECT 1');
    },
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
