/**
 * The shared vocabulary: every enumerated value of MaskWatch, defined once.
 * Pure constants and types (no imports), so the server, the workers, the CLI
 * and the dashboard bundle all import the same lists.
 */

export const ROLES = ['ADMIN', 'DISPATCHER', 'OFFICER'] as const;
export type Role = (typeof ROLES)[number];

/** How a session was signed in: MaskWatch's password (and code), or the agency's directory (single sign-on). */
export const SIGN_IN_METHODS = ['password', 'sso'] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

/** What passed the second factor of a password login (audited as `secondFactor`). */
export const SECOND_FACTOR_KINDS = ['totp', 'recovery-code', 'security-key'] as const;
export type SecondFactorKind = (typeof SECOND_FACTOR_KINDS)[number];

export const ALERT_STATUSES = ['NEW', 'DISPATCHED', 'ACKNOWLEDGED', 'EN_ROUTE', 'ON_SCENE', 'RESOLVED', 'DISMISSED'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Statuses in which an alert still needs work (not resolved or dismissed). */
export const OPEN_ALERT_STATUSES = ['NEW', 'DISPATCHED', 'ACKNOWLEDGED', 'EN_ROUTE', 'ON_SCENE'] as const satisfies readonly AlertStatus[];

/**
 * How the officer found it when closing an alert (a dispatch disposition): chosen on Resolve, counted in the
 * statistics. The last three say the alert did not end with a mask put on, which is what a supervisor reviews.
 */
export const RESOLUTION_OUTCOMES = ['MASK_PUT_ON', 'WARNED', 'GONE_ON_ARRIVAL', 'NOT_A_VIOLATION', 'OTHER'] as const;
export type ResolutionOutcome = (typeof RESOLUTION_OUTCOMES)[number];

export const UNIT_STATUSES = ['AVAILABLE', 'BUSY', 'OFF_DUTY'] as const;
export type UnitStatus = (typeof UNIT_STATUSES)[number];

/** How statistics are grouped (GET /api/v1/stats?groupBy=). */
export const STATS_GROUP_BY = ['hour', 'day', 'camera', 'zone'] as const;
export type StatsGroupBy = (typeof STATS_GROUP_BY)[number];

/** Socket.IO / webhook event names of an alert change. */
export const ALERT_EVENT_NAMES = ['alert.created', 'alert.updated'] as const;
export type AlertEventName = (typeof ALERT_EVENT_NAMES)[number];

/** Who did what an audit event records: a logged-in user, a camera (its key), or MaskWatch itself. */
export const AUDIT_ACTOR_TYPES = ['USER', 'CAMERA', 'SYSTEM'] as const;
export type AuditActorType = (typeof AUDIT_ACTOR_TYPES)[number];

/** Labels of a confirmed person of an incident (alert `people[].label`). */
export const PERSON_LABELS = ['no_mask', 'mask_incorrect'] as const;
export type PersonLabel = (typeof PERSON_LABELS)[number];

/** Where face crops are served: `${SNAPSHOT_ROUTE_PREFIX}<path below snapshots/>` (Bearer header). */
/** How a deployment check ended (maskwatch doctor, Admin › System; domain/deployment-checks.ts). */
export const CHECK_STATUSES = ['ok', 'warn', 'fail', 'skipped'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** The processes of a deployment that announce themselves (system/instance-beacon.ts; Admin › System). */
export const INSTANCE_KINDS = ['api', 'worker'] as const;
export type InstanceKind = (typeof INSTANCE_KINDS)[number];

export const SNAPSHOT_ROUTE_PREFIX = '/api/v1/snapshots/';

/** At most this many incidents in one case's evidence package (POST /api/v1/evidence-packages). */
export const CASE_MAX_INCIDENTS = 100;

/** The shortest passphrase an encrypted case package takes (the format's key derivation is weak: the passphrase carries the strength). */
export const PACKAGE_PASSPHRASE_MIN = 16;
