/**
 * API request/response shapes, defined once as TypeBox schemas: Fastify
 * validates and serialises with them, @fastify/swagger documents them, and the
 * server code and the dashboard (src/web) use their `Static` types. This module
 * imports nothing of the server, so the browser bundle can use it.
 *
 * Nullable fields are written as `type: [T, 'null']` (not anyOf) and enums as
 * `enum: [...]`, which keeps the OpenAPI document as it was.
 */
import { Type, type Static, type TSchema } from 'typebox';
import {
  CASE_MAX_INCIDENTS,
  PACKAGE_PASSPHRASE_MIN,
  CHECK_STATUSES,
  INSTANCE_KINDS,
  ALERT_STATUSES,
  AUDIT_ACTOR_TYPES,
  PERSON_LABELS,
  RESOLUTION_OUTCOMES,
  ROLES,
  SIGN_IN_METHODS,
  STATS_GROUP_BY,
  UNIT_STATUSES,
  type AlertStatus,
  type PersonLabel,
  type ResolutionOutcome,
} from './vocabulary.ts';
import { MAX_CONFIRM_WINDOW } from '../domain/people.ts';
import { AIZOO_SECOND_OPINION_RULE } from '../vision/decision.ts';

/** A string restricted to the values of a list, typed as their union. */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** `T | null` as `type: [T's type, 'null']`. */
function Nullable<S extends TSchema & { type: string }>(schema: S) {
  return Type.Unsafe<Static<S> | null>({ ...schema, type: [schema.type, 'null'] });
}

const DateTime = (options: { description?: string } = {}) => Type.String({ format: 'date-time', ...options });
const NullableString = () => Nullable(Type.String());
const NullableDateTime = (options: { description?: string } = {}) => Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time', ...options });
const NullableNumber = () => Nullable(Type.Number());
const Latitude = () => Type.Number({ minimum: -90, maximum: 90 });
const Longitude = () => Type.Number({ minimum: -180, maximum: 180 });
/**
 * URL of an alert's view of a stored frame, `/api/v1/alerts/{id}/frames/{frameId}` (a JPEG rendered
 * for that alert: only its people unblurred; Bearer header), or null when there is none (e.g. after retention).
 */
const AlertFrameUrl = (description: string) =>
  Type.Unsafe<string | null>({ type: ['string', 'null'], description: `${description}: GET /api/v1/alerts/{id}/frames/{frameId}, rendered for that alert (only its people unblurred)` });
/** URL of a face crop, `/api/v1/snapshots/…` (Bearer header), or null. */
const FaceCropUrl = (description: string) => Type.Unsafe<string | null>({ type: ['string', 'null'], description: `${description}: GET /api/v1/snapshots/…` });

export const RoleSchema = StringEnum(ROLES);
export const AlertStatusSchema = StringEnum(ALERT_STATUSES);
export const UnitStatusSchema = StringEnum(UNIT_STATUSES);
const OUTCOMES_TEXT =
  'How the officer found it: MASK_PUT_ON (the person put a mask on), WARNED (warned or cited), GONE_ON_ARRIVAL (nobody there), ' +
  'NOT_A_VIOLATION (exempt, or the alert was wrong), OTHER (see the note)';
export const ResolutionOutcomeSchema = StringEnum(RESOLUTION_OUTCOMES, { description: OUTCOMES_TEXT });
/** An outcome, or null: resolved without one (or not resolved). */
const NullableOutcome = (description: string) =>
  Type.Unsafe<ResolutionOutcome | null>({ type: ['string', 'null'], enum: [...RESOLUTION_OUTCOMES, null], description });

export const CameraSummarySchema = Type.Object({
  name: Type.String(),
  latitude: Type.Number(),
  longitude: Type.Number(),
  address: NullableString(),
  zone: NullableString(),
});
export type CameraSummary = Static<typeof CameraSummarySchema>;

/**
 * A confirmed person of an incident (issue #12 §5): `box` in original-frame
 * pixels of the frame where the person was last seen, `frames` the frames in
 * which the person was confirmed, `snapshotUrl` the track's best shot.
 */
export const PersonSchema = Type.Object({
  id: Type.String(),
  label: StringEnum(PERSON_LABELS),
  box: Type.Unsafe<[number, number, number, number]>({
    type: 'array',
    items: { type: 'integer' },
    minItems: 4,
    maxItems: 4,
    description:
      "[x, y, width, height] in original-frame pixels, in the frame where the person was last seen (frameSnapshotUrl); a frame with no violation in it is not kept (privacy) and a masked face is blurred in a kept one, so such a sighting moves lastSeenAt only and box and frame always match, with the person sharp (edge cameras, which send no frames: the last sighting's box)",
  }),
  frames: Type.Integer({ description: 'Frames in which the person was confirmed (stored violations of the track)' }),
  noMaskProbability: Type.Number({
    description: 'P(no mask), averaged over the confirmation window of the latest violating sighting (for a mask_incorrect person it stays low); like label, a later masked sighting does not change it',
  }),
  snapshotUrl: FaceCropUrl("The track's best shot (large, sharp, confident; every other face in it blurred)"),
  firstSeenAt: DateTime(),
  lastSeenAt: DateTime(),
  maskedSince: NullableDateTime({
    description:
      'The person has put a mask on: their first masked sighting after the last violating one, once their track no longer confirms them (fewer than confirmFrames violating sightings among the last confirmWindow); null while it does',
  }),
  frameSnapshotUrl: AlertFrameUrl('Annotated frame in which the person was last seen'),
  falsePositive: Type.Boolean(),
  falsePositiveReason: NullableString(),
});
export type Person = Static<typeof PersonSchema>;

/** An alert as the API returns it and as alert.created / alert.updated (sockets, webhooks) carry it. */
export const AlertSchema = Type.Object({
  id: Type.String(),
  status: AlertStatusSchema,
  cameraId: Type.String(),
  camera: CameraSummarySchema,
  createdAt: DateTime(),
  lastSeenAt: DateTime(),
  violationCount: Type.Integer(),
  noMaskProbability: Type.Number({ description: 'P(no mask) of the most certain face, 0–1' }),
  maskProbability: Type.Number({ deprecated: true, description: 'Deprecated: the old name of noMaskProbability (same value).' }),
  snapshotUrl: FaceCropUrl('Face crop of the best-shot person'),
  frameSnapshotUrl: AlertFrameUrl("The alert's latest annotated frame"),
  assignedUnitId: NullableString(),
  escalationLevel: Type.Integer(),
  people: Type.Array(PersonSchema, { description: "The incident's confirmed people" }),
  resolutionOutcome: NullableOutcome(`Set when the alert is resolved with an outcome; null otherwise. ${OUTCOMES_TEXT}`),
  noteCount: Type.Integer({ description: 'Notes added to the incident (POST /api/v1/alerts/:id/notes); its timeline lists them as alert.note' }),
});
export type Alert = Static<typeof AlertSchema>;

export const ViolationSchema = Type.Object({
  id: Type.String(),
  cameraId: Type.String(),
  camera: CameraSummarySchema,
  frameId: Type.String(),
  faceIndex: Type.Integer(),
  capturedAt: DateTime(),
  receivedAt: DateTime(),
  box: Type.Unsafe<[number, number, number, number]>({
    type: 'array',
    items: { type: 'integer' },
    minItems: 4,
    maxItems: 4,
    description: '[x, y, width, height] px',
  }),
  faceScore: Type.Number(),
  noMaskProbability: Type.Number({ description: 'P(no mask), 0–1' }),
  maskProbability: Type.Number({ deprecated: true, description: 'Deprecated: the old name of noMaskProbability (same value).' }),
  snapshotUrl: FaceCropUrl('Face crop of this violation'),
  frameSnapshotUrl: AlertFrameUrl("The frame of this violation as its alert shows it (null without an alert)"),
  alertId: NullableString(),
  alertStatus: Type.Unsafe<AlertStatus | null>({
    type: ['string', 'null'],
    enum: [...ALERT_STATUSES, null],
    description: 'current status of the alert the violation belongs to',
  }),
  personId: Type.Unsafe<string | null>({ type: ['string', 'null'], description: "The incident's person (track) this frame confirmed, one of its alert's people" }),
  label: Type.Unsafe<PersonLabel | null>({
    type: ['string', 'null'],
    enum: [...PERSON_LABELS, null],
    description: "What the violation is: its person's label (no_mask, or mask_incorrect for a mask below the nose); null for a violation stored without a person",
  }),
  falsePositive: Type.Boolean({ description: 'Its person was marked a false positive' }),
});
export type Violation = Static<typeof ViolationSchema>;

/** The query string of GET /api/v1/violations.csv: the filters of GET /api/v1/violations (the camera id not pattern-checked). */
export const ViolationCsvQuerySchema = Type.Object(
  {
    cameraId: Type.Optional(Type.String({ maxLength: 64 })),
    zone: Type.Optional(Type.String({ maxLength: 100 })),
    from: Type.Optional(DateTime()),
    to: Type.Optional(DateTime()),
    status: Type.Optional(StringEnum(ALERT_STATUSES, { description: 'status of the alert the violation belongs to' })),
  },
  { additionalProperties: false },
);
export type ViolationCsvQuery = Static<typeof ViolationCsvQuerySchema>;

export const CameraSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  address: NullableString(),
  latitude: Type.Number(),
  longitude: Type.Number(),
  zone: NullableString(),
  enabled: Type.Boolean(),
  apiKeyHint: Type.String({ description: 'last 4 characters of the API key' }),
  lastFrameAt: NullableDateTime(),
  confirmFrames: Type.Unsafe<number | null>({
    type: ['integer', 'null'],
    description: 'k: a person is confirmed in k of the last n frames of its track (null: deployment default)',
  }),
  confirmWindow: Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'n: frames of the track looked at (null: deployment default)' }),
  createdAt: DateTime(),
  updatedAt: DateTime(),
});
export type Camera = Static<typeof CameraSchema>;

export const CameraWithKeySchema = Type.Object({
  ...CameraSchema.properties,
  apiKey: Type.String({ description: 'shown once; store it in the camera' }),
});
export type CameraWithKey = Static<typeof CameraWithKeySchema>;

/** The fields an admin sets on a camera: the body of POST /api/v1/cameras. */
export const CameraInputSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    address: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    latitude: Latitude(),
    longitude: Longitude(),
    zone: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    confirmFrames: Type.Optional(
      Nullable(
        Type.Integer({
          minimum: 1,
          maximum: MAX_CONFIRM_WINDOW,
          description: 'k of n person confirmation (≤ confirmWindow); 1 with confirmWindow 1 for a snapshot camera; null = deployment default',
        }),
      ),
    ),
    confirmWindow: Type.Optional(
      Nullable(Type.Integer({ minimum: 1, maximum: MAX_CONFIRM_WINDOW, description: 'n of k of n; null = deployment default' })),
    ),
  },
  { additionalProperties: false },
);
export type CameraInput = Static<typeof CameraInputSchema>;

/** The body of PATCH /api/v1/cameras/:id: any of the input fields, and `enabled`. */
export const CameraPatchSchema = Type.Partial(Type.Object({ ...CameraInputSchema.properties, enabled: Type.Boolean() }), {
  minProperties: 1,
  additionalProperties: false,
});
export type CameraPatch = Static<typeof CameraPatchSchema>;

export const UnitSchema = Type.Object({
  id: Type.String(),
  callSign: Type.String(),
  status: UnitStatusSchema,
  latitude: NullableNumber(),
  longitude: NullableNumber(),
  positionAt: NullableDateTime(),
  members: Type.Array(Type.Object({ id: Type.String(), username: Type.String() })),
  openAlertIds: Type.Array(Type.String()),
  createdAt: DateTime(),
  updatedAt: DateTime(),
});
export type Unit = Static<typeof UnitSchema>;

const CallSign = () => Type.String({ minLength: 1, maxLength: 32, pattern: '^[A-Za-z0-9][A-Za-z0-9 _./-]*$' });

/** The body of POST /api/v1/units; a position is both coordinates or neither. */
export const UnitInputSchema = Type.Object(
  { callSign: CallSign(), status: Type.Optional(UnitStatusSchema), latitude: Type.Optional(Latitude()), longitude: Type.Optional(Longitude()) },
  { additionalProperties: false, dependencies: { latitude: ['longitude'], longitude: ['latitude'] } },
);
export type UnitInput = Static<typeof UnitInputSchema>;

/** The body of PATCH /api/v1/units/:id (the call sign only by an admin, checked by the route). */
export const UnitPatchSchema = Type.Object(
  { callSign: Type.Optional(CallSign()), status: Type.Optional(UnitStatusSchema) },
  { additionalProperties: false, minProperties: 1 },
);
export type UnitPatch = Static<typeof UnitPatchSchema>;

/** The body of PUT /api/v1/units/:id/members: the unit's members, all of them. */
export const UnitMembersSchema = Type.Object(
  { userIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 100 }) },
  { additionalProperties: false },
);
export type UnitMembers = Static<typeof UnitMembersSchema>;

/** The body of POST /api/v1/units/:id/position. */
export const UnitPositionSchema = Type.Object({ latitude: Latitude(), longitude: Longitude() }, { additionalProperties: false });
export type UnitPosition = Static<typeof UnitPositionSchema>;

export const SuggestedUnitSchema = Type.Object({ unit: UnitSchema, distanceMeters: NullableNumber() });
export type SuggestedUnit = Static<typeof SuggestedUnitSchema>;

/** A dispatcher's zones (a precinct): the camera zones whose alerts, evidence, history and statistics they see. */
const Zones = () =>
  Type.Array(Type.String({ minLength: 1, maxLength: 100 }), {
    maxItems: 50,
    description:
      "DISPATCHER only: the camera zones whose alerts, evidence, violations, exports, statistics and live events the dispatcher sees (a camera without a zone is in none). Empty: every zone. Admins and dispatchers without zones see everything; officers see their unit's alerts",
  });

/** GET /api/v1/zones: a zone, its cameras, and the dispatchers who see its alerts. */
export const ZoneSchema = Type.Object({
  zone: Nullable(Type.String({ description: 'the zone\'s name; null: the cameras without a zone' })),
  cameras: Type.Integer({ minimum: 0 }),
  openAlerts: Type.Integer({ minimum: 0 }),
  dispatchers: Type.Integer({
    minimum: 0,
    description: 'enabled dispatchers who see the zone\'s alerts (limited to it, or seeing every zone); 0 with cameras: its alerts reach admins only',
  }),
  zonedDispatchers: Type.Integer({ minimum: 0, description: 'of them, those limited to this zone' }),
  namedBy: Type.Array(Type.String(), {
    description: 'settings that name the zone (MASKWATCH_SSO_ZONE_GROUPS, a MASKWATCH_WEBHOOKS target): a rename does not change them, the operator must',
  }),
});
export type Zone = Static<typeof ZoneSchema>;

/** POST /api/v1/zones/rename: one zone's new name, on every camera and dispatcher; into an existing zone, the two merge. */
export const ZoneRenameSchema = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 100 }),
    to: Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$', description: 'no leading or trailing spaces' }),
  },
  { additionalProperties: false },
);
export type ZoneRename = Static<typeof ZoneRenameSchema>;

export const ZoneRenamedSchema = Type.Object({
  from: Type.String(),
  to: Type.String(),
  cameras: Type.Integer({ minimum: 0, description: 'cameras moved to the new name' }),
  dispatchers: Type.Integer({ minimum: 0, description: 'accounts whose zones were renamed' }),
  merged: Type.Boolean({ description: 'the new name was a zone already: the two are one now' }),
  namedBy: Type.Array(Type.String(), { description: 'settings that still name the old zone (MASKWATCH_SSO_ZONE_GROUPS, a MASKWATCH_WEBHOOKS target): change them and restart' }),
});
export type ZoneRenamed = Static<typeof ZoneRenamedSchema>;

export const UserSummarySchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: RoleSchema,
  unitId: NullableString(),
  zones: Zones(),
  enabled: Type.Boolean({ description: 'false: the user cannot log in and has no valid token' }),
  mustChangePassword: Type.Boolean({ description: 'the user must change their password before using anything else' }),
  mfaEnabled: Type.Boolean({ description: 'the user signs in with a second factor (an authenticator app\'s TOTP code)' }),
  lastSignInAt: NullableDateTime({ description: 'the last sign-in or session renewal; null: never (MASKWATCH_DISABLE_INACTIVE_DAYS disables accounts unused that long)' }),
  ssoLinked: Type.Boolean({ description: 'the account is linked to an identity of the agency\'s directory (single sign-on); DELETE /api/v1/users/{id}/sso unlinks it' }),
  securityKeys: Type.Integer({ minimum: 0, description: 'security keys (WebAuthn) registered under the user\'s two-factor sign-in: a second factor that cannot be phished' }),
  securityKeyRequired: Type.Boolean({
    description: 'the role must sign in with a security key here (MASKWATCH_SECURITY_KEY_REQUIRED); with securityKeys 0, the user is asked to add one at the next sign-in',
  }),
});
export type UserSummary = Static<typeof UserSummarySchema>;

const Password = () => Type.String({ minLength: 12, maxLength: 1024 });

/** An alert whose evidence retention keeps until an admin releases it (GET /api/v1/evidence-holds). */
export const EvidenceHoldSchema = Type.Object({
  alertId: Type.String(),
  cameraId: Type.String(),
  cameraName: Type.String(),
  heldAt: DateTime(),
  heldBy: NullableString(),
  heldByName: Nullable(Type.String({ description: 'the admin who set it (a deleted account\'s placeholder name)' })),
  reason: Type.String(),
  reviewAt: NullableDateTime({ description: 'when the hold is due for review: kept (set again) or released; null for a hold set before review dates' }),
  reviewDue: Type.Boolean({ description: 'reviewAt has passed (or there is none): an admin decides whether the faces are still needed' }),
});
export type EvidenceHold = Static<typeof EvidenceHoldSchema>;

/** GET /api/v1/evidence-holds: every hold, and the review period a hold gets when none is given. */
export const EvidenceHoldListSchema = Type.Object({
  items: Type.Array(EvidenceHoldSchema),
  reviewDays: Type.Integer({ description: 'days to the review of a hold set without reviewAt (MASKWATCH_EVIDENCE_HOLD_REVIEW_DAYS)' }),
});
export type EvidenceHoldList = Static<typeof EvidenceHoldListSchema>;

/** One check of a deployment (domain/deployment-checks.ts), as `maskwatch doctor --json` and GET /api/v1/system/checks give it. */
export const SystemCheckSchema = Type.Object({
  name: Type.String({ description: 'e.g. "redis persistence", "database", "secret key"' }),
  status: StringEnum(CHECK_STATUSES),
  detail: Type.String({ description: 'what was found' }),
  fix: Type.Optional(Type.String({ description: 'what to do about a warning or a failure' })),
});
export type SystemCheck = Static<typeof SystemCheckSchema>;

/** The settings every instance of a deployment must share; `maskwatch doctor` and Admin › System compare them. */
export const InstanceSettingsSchema = Type.Object({
  signingKeyFingerprint: Type.Union([Type.String(), Type.Null()], {
    description: "the evidence signing key's fingerprint, which follows the secret key (MASKWATCH_SECRET_KEY): instances with different ones seal and sign apart; null when the key could not be read",
  }),
  retentionDays: Type.Integer({ description: 'MASKWATCH_RETENTION_DAYS' }),
  incorrectMaskPolicy: Type.String({ description: 'MASKWATCH_INCORRECT_MASK' }),
});
export type InstanceSettings = Static<typeof InstanceSettingsSchema>;

/** A running API or worker process, as it announces itself in Redis every few seconds. */
export const InstanceSchema = Type.Object({
  id: Type.String(),
  kind: StringEnum(INSTANCE_KINDS),
  host: Type.String({ description: 'the host name' }),
  pid: Type.Integer(),
  version: Type.String({ description: "MaskWatch's package version" }),
  schema: Type.String({ description: 'the newest database migration this release has: instances of different releases differ here' }),
  node: Type.String({ description: 'the Node.js version' }),
  startedAt: DateTime(),
  seenAt: DateTime({ description: 'its last announcement; an instance silent for three intervals drops out of the list' }),
  rssBytes: Type.Integer({ description: 'resident memory at the last announcement' }),
  settings: InstanceSettingsSchema,
});
export type Instance = Static<typeof InstanceSchema>;

/** GET /api/v1/system/checks: the deployment as the answering API instance sees it. */
export const SystemChecksSchema = Type.Object({
  ok: Type.Boolean({ description: 'no check failed' }),
  failed: Type.Integer(),
  warnings: Type.Integer(),
  checkedAt: DateTime(),
  checks: Type.Array(SystemCheckSchema),
  instances: Type.Array(InstanceSchema, { description: 'every API and worker process announcing itself on this Redis and queue prefix, oldest first' }),
});
export type SystemChecks = Static<typeof SystemChecksSchema>;

/** GET /api/v1/evidence-signing-key: the key that signs evidence packages, to publish for whoever receives them. */
export const EvidenceSigningKeySchema = Type.Object({
  algorithm: Type.Literal('Ed25519'),
  keyFingerprint: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the public key (SPKI DER), as `openssl pkey -pubin -in key.pem -outform DER | sha256sum` prints it' }),
  publicKeyPem: Type.String({ description: 'the public key (SPKI PEM), as packages carry it in signing-key.pem' }),
});
export type EvidenceSigningKey = Static<typeof EvidenceSigningKeySchema>;

/** The body of POST /api/v1/evidence-packages: a case's incidents, packaged together under the agency's case reference. */
export const EvidenceCaseInputSchema = Type.Object(
  {
    reference: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^(?=.*\\S)[^\\u0000-\\u001f\\u007f]+$',
      description: "the agency's case reference (a case or report number), printed in the package, its file name and each incident's audit event",
    }),
    alertIds: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: CASE_MAX_INCIDENTS, uniqueItems: true, description: `the case's incidents (alerts), 1 to ${CASE_MAX_INCIDENTS}; packaged oldest first` }),
    passphrase: Type.Optional(
      Type.String({
        minLength: PACKAGE_PASSPHRASE_MIN,
        maxLength: 256,
        description:
          `Encrypt the package: the answer is a ZIP encrypted with AES-256 (WinZip AE-2, what 7-Zip, WinZip and WinRAR open) holding the case's package ` +
          `unchanged. At least ${PACKAGE_PASSPHRASE_MIN} characters: the format's key derivation is weak (PBKDF2-HMAC-SHA1, 1,000 rounds), so the ` +
          'passphrase must carry the strength (the dashboard generates 120 random bits). Never stored or logged; the audit records that the export was encrypted',
      }),
    ),
  },
  { additionalProperties: false },
);
export type EvidenceCaseInput = Static<typeof EvidenceCaseInputSchema>;

/** A case package's file name: its reference with letters, digits, dot, dash and underscore only; `-encrypted` when it is. */
export const casePackageFileName = (reference: string, encrypted = false): string =>
  `maskwatch-case-${reference.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 80) || 'case'}${encrypted ? '-encrypted' : ''}.zip`;

/** The body of PUT /api/v1/alerts/:id/hold: why the evidence must outlive retention (a complaint, an inquiry), and until when before a review. */
export const EvidenceHoldInputSchema = Type.Object(
  {
    reason: Type.String({ minLength: 3, maxLength: 500, pattern: '\\S' }),
    reviewAt: Type.Optional(Type.String({ format: 'date-time', description: 'when the hold is due for review, in the future and within 3 years; default: in MASKWATCH_EVIDENCE_HOLD_REVIEW_DAYS days' })),
  },
  { additionalProperties: false },
);
export type EvidenceHoldInput = Static<typeof EvidenceHoldInputSchema>;

/** The `version` of the sign-in notice a person accepted (GET /api/v1/auth/sign-in-notice). */
const NoticeVersion = () =>
  Type.String({ maxLength: 64, description: 'the `version` of GET /api/v1/auth/sign-in-notice the person accepted; required while a notice is set (400 notice-not-accepted)' });

/** GET /api/v1/auth/sign-in-notice: the agency's system use notification, accepted before signing in. */
export const SignInNoticeSchema = Type.Object({
  text: Nullable(Type.String({ description: 'plain text, lines separated by \\n; null: no notice is set' })),
  version: Nullable(Type.String({ description: 'sent as `noticeVersion` by a sign-in that accepted this text' })),
});
export type SignInNotice = Static<typeof SignInNoticeSchema>;

/** The body of POST /api/v1/auth/sso/exchange (optional: only a sign-in notice needs it). */
export const SsoExchangeSchema = Type.Unsafe<{ noticeVersion?: string } | null>({
  type: ['object', 'null'],
  properties: { noticeVersion: NoticeVersion() },
  additionalProperties: false,
});
export type SsoExchange = Static<typeof SsoExchangeSchema>;

/** GET /api/v1/auth/sso: whether the sign-in page offers single sign-on, and what the directory's groups decide. */
export const SsoOfferSchema = Type.Object({
  enabled: Type.Boolean(),
  label: Nullable(Type.String({ description: 'the sign-in button\'s text' })),
  rolesFromGroups: Type.Boolean({ description: 'the directory\'s groups set the role of linked accounts at each sign-on (MASKWATCH_SSO_ROLE_GROUPS)' }),
  zonesFromGroups: Type.Boolean({ description: 'the directory\'s groups set the zones of linked dispatchers at each sign-on (MASKWATCH_SSO_ZONE_GROUPS)' }),
});
export type SsoOffer = Static<typeof SsoOfferSchema>;

/** The body of POST /api/v1/users (an OFFICER needs a unit; only a DISPATCHER may have zones). */
export const UserInputSchema = Type.Object(
  {
    username: Type.String({ minLength: 3, maxLength: 64 }),
    password: Password(),
    role: RoleSchema,
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'patrol unit call sign' })),
    zones: Type.Optional(Zones()),
  },
  { additionalProperties: false },
);
export type UserInput = Static<typeof UserInputSchema>;

/** The body of PATCH /api/v1/users/:id: role, unit, zones, enabled. */
export const AccountPatchSchema = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    unitId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, description: 'patrol unit id; null: no unit' }))),
    zones: Type.Optional(Zones()),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type AccountPatch = Static<typeof AccountPatchSchema>;

/** The body of POST /api/v1/users/:id/password (an admin's reset). */
export const PasswordResetSchema = Type.Object(
  { password: Password(), mustChangePassword: Type.Optional(Type.Boolean({ default: false })) },
  { additionalProperties: false },
);
export type PasswordReset = Static<typeof PasswordResetSchema>;

/** The body of POST /api/v1/auth/password (a user's own change). */
export const PasswordChangeSchema = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 1024 }), newPassword: Password() },
  { additionalProperties: false },
);
export type PasswordChange = Static<typeof PasswordChangeSchema>;

/** A TOTP code as an authenticator app shows it (RFC 6238, 6 digits). */
const TotpCode = () => Type.String({ pattern: '^[0-9]{6}$', description: 'the 6-digit code of the authenticator app' });
/** Where a second factor is asked for: the app's code, or one of the account's recovery codes. */
const SecondFactorCode = () =>
  Type.String({
    pattern: '^([0-9]{6}|[A-Za-z2-7]{5}-?[A-Za-z2-7]{5})$',
    description: 'the 6-digit code of the authenticator app, or an unused recovery code (`abcde-fghij`); either works once',
  });

/** Binary fields of WebAuthn's JSON forms: base64url (bounded: a credential id is at most 1023 bytes). */
const Base64Url = (maxLength: number) => Type.String({ pattern: '^[A-Za-z0-9_-]*$', maxLength });
const credentialFields = {
  id: Base64Url(1400),
  rawId: Base64Url(1400),
  type: Type.Literal('public-key'),
  clientExtensionResults: Type.Object({}, { additionalProperties: true }),
  authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
};

/**
 * A security key's signed answer to the login's challenge: what `navigator.credentials.get` gives,
 * as @simplewebauthn/browser's startAuthentication returns it (AuthenticationResponseJSON).
 */
export const SecurityKeyAssertionSchema = Type.Object(
  {
    ...credentialFields,
    response: Type.Object({
      clientDataJSON: Base64Url(8192),
      authenticatorData: Base64Url(8192),
      signature: Base64Url(2048),
      userHandle: Type.Optional(Base64Url(512)),
    }),
  },
  { description: 'the security key\'s answer to the challenge of the 401 mfa-required problem (its `securityKey` member)' },
);

/** A new key's answer to the registration challenge (RegistrationResponseJSON of @simplewebauthn/browser). */
export const SecurityKeyAttestationSchema = Type.Object({
  ...credentialFields,
  response: Type.Object(
    {
      clientDataJSON: Base64Url(8192),
      attestationObject: Base64Url(65_536),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 10 })),
    },
    { additionalProperties: true },
  ),
});

/** The body of POST /api/v1/auth/login. */
export const LoginRequestSchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    code: Type.Optional(SecondFactorCode()),
    securityKey: Type.Optional(SecurityKeyAssertionSchema),
    noticeVersion: Type.Optional(NoticeVersion()),
  },
  { additionalProperties: false },
);
export type LoginRequest = Static<typeof LoginRequestSchema>;
/** What a login offers as its second factor: the app's (or a recovery) code, or a security key's answer. */
export type SecondFactorAnswer = Pick<LoginRequest, 'code' | 'securityKey'>;

/** The password again, where a stolen token alone must not do (two-factor setup, new recovery codes). */
export const PasswordConfirmationSchema = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false });
export type PasswordConfirmation = Static<typeof PasswordConfirmationSchema>;

/** The answer of POST /api/v1/auth/mfa/setup: what an authenticator app needs. */
export const MfaSetupSchema = Type.Object({
  secret: Type.String({ description: 'the shared secret, base32, for typing into an app' }),
  otpauthUri: Type.String({ description: 'otpauth://totp/… (Key Uri Format), what the QR code holds' }),
  qrSvg: Type.String({ description: 'the URI as a QR code, an SVG document' }),
});
export type MfaSetup = Static<typeof MfaSetupSchema>;

/** The body of POST /api/v1/auth/mfa/enable. */
export const MfaCodeSchema = Type.Object({ code: TotpCode() }, { additionalProperties: false });
export type MfaCode = Static<typeof MfaCodeSchema>;

/** The body of POST /api/v1/auth/mfa/disable. */
export const MfaDisableSchema = Type.Object(
  { password: Type.String({ minLength: 1, maxLength: 1024 }), code: SecondFactorCode() },
  { additionalProperties: false },
);
export type MfaDisable = Static<typeof MfaDisableSchema>;

/** GET /api/v1/audit/integrity and `maskwatch audit verify --json`: every seal of the audit trail recomputed. */
export const AuditIntegritySchema = Type.Object({
  ok: Type.Boolean({ description: 'true: no sealed event was changed, deleted or added, and every seal was made with this server\'s secret key' }),
  seals: Type.Integer(),
  prunedSeals: Type.Integer({ description: 'seals whose events were pruned (archived): not recomputed' }),
  sealedEvents: Type.Integer({ description: 'events recomputed' }),
  unsealedEvents: Type.Integer({ description: 'events after the last seal (the next retention run seals them)' }),
  lastSeal: Nullable(
    Type.Object({
      seq: Type.Integer(),
      sealedAt: DateTime(),
      toAt: DateTime(),
      hash: Type.String({ description: 'record it outside MaskWatch: a later verify that ends on an earlier seal shows seals deleted from the end' }),
    }),
  ),
  problems: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      kind: Type.Union([Type.Literal('signature'), Type.Literal('missing'), Type.Literal('count'), Type.Literal('content')]),
      detail: Type.String(),
    }),
  ),
});
export type AuditIntegrity = Static<typeof AuditIntegritySchema>;

/** A live session (a signed-in browser or client), as GET /api/v1/auth/sessions lists it. */
export const SessionViewSchema = Type.Object({
  id: Type.String(),
  createdAt: Type.String({ format: 'date-time', description: 'when it was opened or last renewed' }),
  expiresAt: DateTime(),
  clientIp: Nullable(Type.String({ description: 'the client address of that login or renewal' })),
  userAgent: Nullable(Type.String({ description: 'the browser or client that made it, as it said (at most 300 characters)' })),
  current: Type.Boolean({ description: 'the session of this request' }),
  signInMethod: StringEnum(SIGN_IN_METHODS, { description: 'password: MaskWatch\'s password (and code); sso: single sign-on with the agency\'s directory' }),
});
export type SessionView = Static<typeof SessionViewSchema>;
export const SessionListSchema = Type.Object({ items: Type.Array(SessionViewSchema) });

/** A security key registered under two-factor sign-in (GET /api/v1/auth/mfa/keys). */
export const SecurityKeyViewSchema = Type.Object({
  id: Type.String(),
  name: Type.String({ description: 'what its owner called it ("blue YubiKey")' }),
  createdAt: DateTime(),
  lastUsedAt: NullableDateTime({ description: 'its last sign-in' }),
});
export type SecurityKeyView = Static<typeof SecurityKeyViewSchema>;
export const SecurityKeyListSchema = Type.Object({ items: Type.Array(SecurityKeyViewSchema) });

/** The body of POST /api/v1/auth/mfa/keys: the new key's answer, and a name for it. */
export const SecurityKeyAddSchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 60, pattern: '\\S' }), credential: SecurityKeyAttestationSchema },
  { additionalProperties: false },
);
export type SecurityKeyAdd = Static<typeof SecurityKeyAddSchema>;

/** What `navigator.credentials.create` / `.get` take (WebAuthn's JSON form), challenge included. */
export const WebAuthnOptionsSchema = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  additionalProperties: true,
  description: 'PublicKeyCredentialCreationOptionsJSON (registration) or PublicKeyCredentialRequestOptionsJSON (sign-in), as @simplewebauthn/browser takes them',
});

/** The answer of POST /api/v1/auth/mfa/enable and /recovery-codes: shown once, stored only as hashes. */
export const MfaRecoveryCodesSchema = Type.Object({
  recoveryCodes: Type.Array(Type.String(), { description: 'one-use codes (`abcde-fghij`) for signing in without the app; a new set voids the earlier one' }),
});
export type MfaRecoveryCodes = Static<typeof MfaRecoveryCodesSchema>;

export const TimelineEntrySchema = Type.Object({
  at: DateTime(),
  action: Type.String(),
  actorRole: NullableString(),
  username: NullableString(),
  from: NullableString(),
  to: NullableString(),
  unitId: NullableString(),
  note: NullableString(),
  outcome: NullableOutcome('Of a resolve step: the outcome the officer chose (null: none, or another step)'),
  tappedAt: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    format: 'date-time',
    description: "When the officer tapped the step by the phone's clock, for a step sent late (no connection); `at` is when it was recorded",
  }),
});
export type TimelineEntry = Static<typeof TimelineEntrySchema>;

/** A dispatcher's or officer's free text: not blank. */
const Text = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '\\S' });

/** The body of POST /api/v1/alerts/:id/dispatch. */
export const DispatchBodySchema = Type.Object({ unitId: Type.String({ minLength: 1, maxLength: 64 }), note: Type.Optional(Text(2000)) }, { additionalProperties: false });
export type DispatchBody = Static<typeof DispatchBodySchema>;

/**
 * The body of POST /api/v1/alerts/:id/{acknowledge,en-route,on-scene}: an optional note.
 * `required: []` as the hand-written schema had it, so the OpenAPI document stays as it was.
 */
const TappedAt = () =>
  Type.Optional(
    Type.String({
      format: 'date-time',
      description:
        "An officer's step sent late (the phone had no connection): when it was tapped, by the phone's clock. Shown in the timeline " +
        'beside the time it was recorded, which stays the step\'s time (status, statistics, escalation); ignored when more than ' +
        'an hour before, or in the future of, the server\'s time',
    }),
  );

export const NoteBodySchema = Type.Object({ note: Type.Optional(Text(2000)), tappedAt: TappedAt() }, { additionalProperties: false, required: [] });
export type NoteBody = Static<typeof NoteBodySchema>;

/** The body of POST /api/v1/alerts/:id/notes: what a dispatcher or an officer adds to an open incident's record. */
export const IncidentNoteBodySchema = Type.Object(
  {
    text: Text(1000),
    tappedAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          "A note sent late (the phone had no connection): when it was written, by the phone's clock. Shown in the timeline beside " +
          "the time it was recorded; ignored when more than an hour before, or in the future of, the server's time",
      }),
    ),
  },
  { additionalProperties: false },
);
export type IncidentNoteBody = Static<typeof IncidentNoteBodySchema>;

/**
 * The headers of POST /api/v1/alerts/:id/notes: a phone that sends a note again (its first answer was lost) names it
 * by the same key, and the note is recorded once.
 */
export const IncidentNoteHeadersSchema = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      format: 'uuid',
      description:
        'A UUID the client chose for this note. A note by the same user on the same alert with the same key is recorded once: the ' +
        'repeat answers 200 with the alert as it is, and nothing is added or announced',
    }),
  ),
});
export type IncidentNoteHeaders = Static<typeof IncidentNoteHeadersSchema>;

/** A note as recorded: `note` of the webhook delivery its alert.updated makes (a CAD keeps the incident's narrative). */
export const IncidentNoteSchema = Type.Object({ at: DateTime(), username: Type.String(), role: Type.String(), text: Type.String() });
export type IncidentNote = Static<typeof IncidentNoteSchema>;

/** The body of POST /api/v1/alerts/:id/resolve: the note is required; the outcome is optional (the dashboard asks for it). */
export const ResolveBodySchema = Type.Object({ note: Text(2000), outcome: Type.Optional(ResolutionOutcomeSchema), tappedAt: TappedAt() }, { additionalProperties: false });
export type ResolveBody = Static<typeof ResolveBodySchema>;

/** The body of POST /api/v1/alerts/:id/dismiss and of marking a person a false positive. */
export const ReasonBodySchema = Type.Object({ reason: Text(500) }, { additionalProperties: false });
export type ReasonBody = Static<typeof ReasonBodySchema>;

/** The body of any alert action (POST /api/v1/alerts/:id/{action}). */
export type AlertActionBody = DispatchBody | NoteBody | ResolveBody | ReasonBody;

const WebhookOutcomeSchema = StringEnum(['delivered', 'failed'] as const);

export const WebhookDeliverySchema = Type.Object({
  id: Type.String(),
  at: DateTime(),
  outcome: WebhookOutcomeSchema,
  target: Type.String(),
  event: Type.String(),
  alertId: NullableString(),
  delivery: Type.String({ description: 'event id, the same on every attempt (receivers dedupe on it)' }),
  attempt: Type.Integer(),
  status: Type.Unsafe<number | null>({ type: ['integer', 'null'], description: 'HTTP status from the receiver; null when none came' }),
  ms: Type.Unsafe<number | null>({ type: ['integer', 'null'] }),
  error: NullableString(),
  willRetry: Type.Boolean(),
});
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;

export const DistributionSchema = Type.Object({
  count: Type.Integer(),
  medianSeconds: NullableNumber(),
  p90Seconds: NullableNumber(),
  histogram: Type.Array(Type.Object({ upToSeconds: Type.Number(), count: Type.Integer() }), {
    description: 'bins by upper bound (seconds); the last bin also holds everything longer',
  }),
});
export type Distribution = Static<typeof DistributionSchema>;

export const BucketSchema = Type.Object({ key: Type.String(), label: Type.String(), violations: Type.Integer(), alerts: Type.Integer() });
export type Bucket = Static<typeof BucketSchema>;

export const FalsePositiveRateSchema = Type.Object({
  cameraId: Type.String(),
  label: Type.String(),
  people: Type.Integer(),
  falsePositives: Type.Integer(),
  rate: Type.Number(),
  resolvedAlerts: Type.Integer({ description: "the camera's alerts of the period resolved by an officer" }),
  notAViolation: Type.Integer({ description: 'of those, resolved with the outcome NOT_A_VIOLATION: the officer on the spot found no violation' }),
});
export type FalsePositiveRate = Static<typeof FalsePositiveRateSchema>;

export const StatsSchema = Type.Object({
  from: DateTime(),
  to: DateTime(),
  groupBy: StringEnum(STATS_GROUP_BY),
  totals: Type.Object({ violations: Type.Integer(), alerts: Type.Integer() }),
  buckets: Type.Array(BucketSchema),
  responseTimes: Type.Object(
    { toDispatch: DistributionSchema, toAcknowledge: DistributionSchema, toResolve: DistributionSchema },
    { description: 'toDispatch: created → dispatched; toAcknowledge: dispatched → acknowledged; toResolve: created → resolved (alerts created in the period)' },
  ),
  falsePositives: Type.Array(FalsePositiveRateSchema, {
    description:
      'Per camera: people of alerts created in the period and how many dispatchers marked false positives (rate = falsePositives / people), and the alerts resolved and how many of them officers found to be no violation',
  }),
  resolutionOutcomes: Type.Array(
    Type.Object({ outcome: NullableOutcome('null: resolved without an outcome'), alerts: Type.Integer() }),
    { description: 'Alerts created in the period and resolved, by outcome, in the order of RESOLUTION_OUTCOMES then null; outcomes with no alert are left out' },
  ),
});
export type Stats = Static<typeof StatsSchema>;

/** The query string of GET /api/v1/stats: period [from, to) (default the last 7 days), grouping, the viewer's UTC offset. */
export const StatsQuerySchema = Type.Object(
  {
    from: Type.Optional(DateTime()),
    to: Type.Optional(DateTime()),
    groupBy: Type.Optional(StringEnum(STATS_GROUP_BY, { default: 'day' })),
    utcOffsetMinutes: Type.Optional(Type.Integer({ minimum: -840, maximum: 840, default: 0 })),
  },
  { additionalProperties: false },
);
export type StatsQuery = Static<typeof StatsQuerySchema>;

/** A keyset-paginated list: `{items, nextCursor}`. */
export function PageSchema<S extends TSchema>(item: S) {
  return Type.Object({ items: Type.Array(item), nextCursor: NullableString() });
}
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** `limit` and `cursor` of a keyset-paginated list's query string; the server fills in limit's default. */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

/** The query string of GET /api/v1/alerts. */
export const AlertListQuerySchema = Type.Object(
  { status: Type.Optional(AlertStatusSchema), cameraId: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })), ...PageQuery },
  { additionalProperties: false },
);
export type AlertListQuery = Static<typeof AlertListQuerySchema>;

/** The query string of GET /api/v1/violations: the CSV export's filters (the camera id pattern-checked), paged. */
export const ViolationListQuerySchema = Type.Object(
  { ...ViolationCsvQuerySchema.properties, cameraId: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' })), ...PageQuery },
  { additionalProperties: false },
);
export type ViolationListQuery = Static<typeof ViolationListQuerySchema>;

/** The query string of GET /api/v1/webhooks/deliveries. */
export const WebhookDeliveryQuerySchema = Type.Object(
  { outcome: Type.Optional(WebhookOutcomeSchema), target: Type.Optional(Type.String({ maxLength: 100 })), ...PageQuery },
  { additionalProperties: false },
);
export type WebhookDeliveryQuery = Static<typeof WebhookDeliveryQuerySchema>;

/** One event of the audit trail (GET /api/v1/audit). */
export const AuditEventSchema = Type.Object({
  id: Type.String(),
  at: DateTime(),
  actorType: StringEnum(AUDIT_ACTOR_TYPES),
  actorId: NullableString(),
  actorRole: NullableString(),
  actorName: Type.Unsafe<string | null>({
    type: ['string', 'null'],
    description: "The user's username (a deleted user's placeholder) or the camera's name; null for the system or a camera deleted since",
  }),
  action: Type.String({ description: 'Dotted verb, e.g. snapshot.view, alert.dispatch, user.update, violations.export' }),
  subjectType: Type.String(),
  subjectId: NullableString(),
  details: Type.Unsafe<Record<string, unknown> | null>({ type: ['object', 'null'], additionalProperties: true, description: 'What the action recorded (filters, reason, client IP, changes…)' }),
});
export type AuditEvent = Static<typeof AuditEventSchema>;

/** Who saw an alert's evidence (GET /api/v1/alerts/:id/evidence-access): its annotated frames and its face crops. */
export const EvidenceAccessSchema = Type.Object({
  viewers: Type.Array(
    Type.Object({
      actorType: StringEnum(AUDIT_ACTOR_TYPES),
      actorId: NullableString(),
      actorRole: NullableString(),
      actorName: Type.Unsafe<string | null>({ type: ['string', 'null'], description: "The user's username (a deleted user's placeholder)" }),
      views: Type.Integer({ minimum: 1, description: 'Views of this alert\'s frames and face crops' }),
      firstAt: DateTime(),
      lastAt: DateTime(),
    }),
    { description: 'Everyone who viewed the evidence, first viewer first; counts every view' },
  ),
  items: Type.Array(AuditEventSchema, {
    description: "The views (`snapshot.view`, subject `AlertFrame` `<alertId>/<frameId>` or `Snapshot` `<cameraId>/<file>`), newest first",
  }),
  truncated: Type.Boolean({ description: 'More views exist than `items` lists (viewers still counts them all)' }),
});
export type EvidenceAccess = Static<typeof EvidenceAccessSchema>;

/** The query string of GET /api/v1/audit; from inclusive, to exclusive. */
export const AuditQuerySchema = Type.Object(
  {
    actorId: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'Events of this user or camera' })),
    action: Type.Optional(Type.String({ maxLength: 100, pattern: '^[a-z_.]+$', description: 'Actions starting with this, e.g. alert. or snapshot.view' })),
    subjectType: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z]+$' })),
    subjectId: Type.Optional(Type.String({ maxLength: 200, description: "Subjects whose id starts with this (an alert's id also finds the views of its frames, `<alertId>/<frameId>`)" })),
    from: Type.Optional(DateTime()),
    to: Type.Optional(DateTime()),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuerySchema>;

/** `{items}` of a whole (unpaged) list. */
export function ListSchema<S extends TSchema>(item: S) {
  return Type.Object({ items: Type.Array(item) });
}

/** Most faces one detections upload may carry (a crowded frame has far fewer reliable faces). */
export const MAX_DETECTED_FACES = 64;
/** Largest face crop of a detections upload, decoded bytes. */
export const MAX_CROP_BYTES = 256 * 1024;

export const DetectedFaceSchema = Type.Object(
  {
    box: Type.Array(Type.Number(), {
      minItems: 4,
      maxItems: 4,
      description: '[x, y, width, height] in frame pixels; inside the frame, width and height > 0',
    }),
    score: Type.Number({ minimum: 0, maximum: 1, description: 'face detector confidence' }),
    probabilities: Type.Object(
      {
        mask: Type.Number({ minimum: 0, maximum: 1 }),
        no_mask: Type.Number({ minimum: 0, maximum: 1 }),
        mask_incorrect: Type.Number({ minimum: 0, maximum: 1 }),
      },
      { additionalProperties: false, description: "the mask classifier's class probabilities; they must sum to 1 (± 0.01)" },
    ),
    crop: Type.Optional(
      Type.String({
        // base64 of at most MAX_CROP_BYTES bytes (the exact byte bound is checked after decoding: 413)
        maxLength: Math.ceil(MAX_CROP_BYTES / 3) * 4 + 4,
        description:
          'base64 JPEG of the face (with context; other faces blurred). Required for exactly the faces that are violations ' +
          "under the server's decision rule, refused for the others; at most 256 KiB decoded",
      }),
    ),
    secondOpinion: Type.Optional(
      Type.Object(
        {
          noMaskProbability: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
            description: "the second opinion's P(no mask) for the face it matched, or null when it matched none",
          }),
        },
        {
          additionalProperties: false,
          description:
            "The agent's second opinion (MASKWATCH_SECOND_OPINION=aizoo) on a face the server's rule accuses of no mask; refused on other faces. " +
            `The server applies the deployed rule to it (P(no mask) ≥ ${AIZOO_SECOND_OPINION_RULE.noMaskThreshold} confirms; null, no face matched, ${AIZOO_SECOND_OPINION_RULE.noFace === 'keep' ? 'confirms' : 'vetoes'}): a vetoed face is no violation and takes no crop. Absent = the head alone decides.`,
        },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DetectedFace = Static<typeof DetectedFaceSchema>;

/** POST /api/v1/detections: an edge agent's analysis of one frame (the frame stays on site). */
export const DetectionsRequestSchema = Type.Object(
  {
    frameId: Type.Optional(
      Type.String({
        format: 'uuid',
        description: "the agent's id of this frame: a retried upload with the same id is recorded once",
      }),
    ),
    capturedAt: Type.String({ maxLength: 64, description: 'ISO 8601 capture time with a time zone' }),
    width: Type.Integer({ minimum: 1, description: 'frame width, px' }),
    height: Type.Integer({ minimum: 1, description: 'frame height, px (width × height within the frame pixel limit)' }),
    faces: Type.Array(DetectedFaceSchema, { maxItems: MAX_DETECTED_FACES }),
  },
  { additionalProperties: false },
);
export type DetectionsRequest = Static<typeof DetectionsRequestSchema>;

export const DetectionsAcceptedSchema = Type.Object({
  frameId: Type.String({ format: 'uuid', description: "the server's frame id (derived from the agent's frameId when given)" }),
  violations: Type.Integer({ description: "faces that are violations under the server's rule (their crops were stored)" }),
});
export type DetectionsAccepted = Static<typeof DetectionsAcceptedSchema>;
