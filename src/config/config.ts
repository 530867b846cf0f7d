import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { REPO_ROOT } from '../paths.ts';
import { parseWebhookTargets, WebhookConfigError, type WebhookTarget } from '../notify/webhook-core.ts';
import type { EscalationPolicy } from '../domain/escalation.ts';
import { DEFAULT_CONFIRMATION, DEFAULT_CONFIRMATION_THRESHOLD } from '../domain/people.ts';
import { isSentinelUrl, redisOptionsFromUrl } from '../queue/redis-options.ts';
import { redactUrl } from '../db/url.ts';
import { DEFAULT_DETECTIONS_CONCURRENCY } from '../queue/jobs.ts';
import { DEFAULT_REUSE, type ReuseSettings } from '../domain/analysis-reuse.ts';
import { ROLES, type Role } from '../contracts/vocabulary.ts';
import { EVERY_ZONE, type DirectoryGroupMap } from '../auth/directory-groups.ts';
import type { ZoneSetting } from '../domain/zone-coverage.ts';
import { DEFAULT_SECOND_OPINION, SECOND_OPINION_KINDS, type SecondOpinionKind } from '../vision/decision.ts';

/** Everything MaskWatch reads from the environment, parsed and validated once at start. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** PostgreSQL connections each process may open at most (MASKWATCH_DB_POOL_SIZE; ignored for SQLite). */
  databasePoolSize: number;
  redisUrl: string;
  /** Prefix of every BullMQ key, so several deployments (or test runs) can share one Redis. */
  queuePrefix: string;
  dataDir: string;
  /** Folder holding third-party datasets and weights (../shared here). */
  assetsDir: string;
  logLevel: string;
  admin: { username: string; password: string } | null;
  /** The admin created from the environment must change that password at first login (MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD). */
  adminMustChangePassword: boolean;
  vision: {
    /** Minimum face detector score. */
    faceScoreThreshold: number;
    /** Overrides the mask head's P(no mask) threshold (chosen on validation, models/mask-head.json); undefined = the head's. */
    noMaskThreshold: number | undefined;
    /** Whether a mask worn below the nose (label mask_incorrect) is a violation (MASKWATCH_INCORRECT_MASK). */
    incorrectMaskPolicy: 'violation' | 'ignore';
    /** Independent check of accused faces before they become violations (MASKWATCH_SECOND_OPINION, vision/decision.ts). */
    secondOpinion: SecondOpinionKind;
    /** Faces smaller than this (shorter side, px) are ignored. */
    minFaceSize: number;
    intraOpThreads: number;
    /**
     * Less work per frame (domain/analysis-reuse.ts): skip detection on a frame unchanged from the camera's
     * last analysed one (MASKWATCH_UNCHANGED_THRESHOLD, 0 = never), reuse a tracked face's confident verdict
     * (MASKWATCH_REUSE_MIN_CONFIDENCE) for at most k − 1 frames (MASKWATCH_RECLASSIFY_EVERY = k, 1 = off).
     */
    reuse: ReuseSettings;
  };
  ingest: {
    maxFrameBytes: number;
    maxFramePixels: number;
    /** Frames waiting per camera above which ingestion answers 503. */
    maxCameraBacklog: number;
  };
  alerts: {
    /** A track unseen this long ends; the same person later is a new alert. */
    cooldownSeconds: number;
    /** Default person confirmation, k of the last n frames of a track (MASKWATCH_CONFIRM_FRAMES / _WINDOW); per camera overridable. */
    confirmation: { confirmFrames: number; confirmWindow: number };
    /**
     * What a track's averaged probabilities must show to be confirmed (MASKWATCH_CONFIRM_NO_MASK /
     * MASKWATCH_CONFIRM_INCORRECT; a value above 1 switches that class off); see domain/people.ts.
     */
    confirmThreshold: { noMask: number; incorrect: number };
    /** When unhandled alerts are escalated (MASKWATCH_ESCALATE_DISPATCH_S / _ACK_S / _MAX_LEVEL; max level 0 = off). */
    escalation: EscalationPolicy;
  };
  /** Outbound webhook targets (MASKWATCH_WEBHOOKS, a JSON array); empty = none. */
  webhooks: WebhookTarget[];
  worker: {
    /** A job whose worker stops renewing its lock this long is stalled and re-queued (BullMQ lockDuration). */
    lockDurationMs: number;
    /** How often live workers look for stalled jobs (BullMQ stalledInterval). */
    stalledIntervalMs: number;
    /** Frames that waited longer than this when a worker takes them are skipped (MASKWATCH_MAX_FRAME_AGE_S; 0 = never). */
    maxFrameAgeSeconds: number;
    /** SIGTERM / supervisor gone → exit after at most this long, even with Redis or the database away. */
    stopTimeoutMs: number;
    /** Edge detections jobs each worker process runs at once (MASKWATCH_DETECTIONS_CONCURRENCY): I/O-bound, no inference. */
    detectionsConcurrency: number;
    /** Old-generation growth between full GCs in a worker, % (MASKWATCH_WORKER_HEAP_GROWTH_PERCENT; 0 = V8's own): system/heap-growth.ts. */
    heapGrowthPercent: number;
  };
  tokenTtlSeconds: number;
  /** How often each API instance re-checks its sockets' sessions (revoked, expired, role, unit or zones changed). */
  sessionCheckMs: number;
  security: {
    /** Browser origins allowed by CORS (MASKWATCH_CORS_ORIGINS, comma-separated); empty = same-origin only. */
    corsOrigins: string[];
    /**
     * Login throttling per (username, client IP), src/auth/login-throttle.ts: failed attempts without
     * delay (MASKWATCH_LOGIN_MAX_FAILURES), the first delay (MASKWATCH_LOGIN_DELAY_MS, doubling with
     * each further failure) and the longest one (MASKWATCH_LOGIN_LOCK_S). No account-wide lock.
     */
    loginMaxFailures: number;
    loginBaseDelayMs: number;
    loginLockSeconds: number;
    /**
     * Reverse proxies (IPs / CIDRs, MASKWATCH_TRUST_PROXY, comma-separated) whose X-Forwarded-For is believed,
     * so per-IP rate limits see clients, not the proxy. Empty: the socket address is the client.
     */
    trustProxy: string[];
    /**
     * Two-factor sign-in (TOTP): `requiredRoles` (MASKWATCH_MFA_REQUIRED: none, all, or roles, comma-separated)
     * must enrol before doing anything else; anyone may enrol. `securityKeyRoles` (MASKWATCH_SECURITY_KEY_REQUIRED,
     * the same form) must also add a security key, and then sign in with it only: a code can be phished, a key cannot.
     */
    mfa: { requiredRoles: Role[]; securityKeyRoles: Role[] };
    /**
     * The server's secret key (MASKWATCH_SECRET_KEY), kept out of the database: it seals the TOTP secrets and
     * signs the audit trail's seals. null: a key file in the data dir (src/auth/secret-box.ts).
     */
    secretKey: string | null;
    /**
     * Accounts without a sign-in (or session renewal) for this many days are disabled by the hourly retention
     * run (MASKWATCH_DISABLE_INACTIVE_DAYS; 0 = never): people who left, accounts nobody watches.
     */
    disableInactiveDays: number;
    /** Single sign-on with the agency's OpenID Connect provider (MASKWATCH_SSO_*); null = passwords only. */
    sso: SsoConfig | null;
    /** SCIM 2.0 provisioning by the agency's directory (MASKWATCH_SCIM_*); null = off. */
    scim: ScimConfig | null;
    /**
     * The agency's system use notification (MASKWATCH_SIGN_IN_NOTICE or _FILE; CJIS 5.5.4, NIST AC-8): shown on
     * the sign-in page and accepted before every sign-in; `version` (a hash of the text) is what a sign-in
     * sends and the audit trail records. null = none.
     */
    signInNotice: { text: string; version: string } | null;
    /**
     * The address browsers use (MASKWATCH_PUBLIC_URL, an origin): single sign-on's redirect URIs and the site
     * security keys are bound to. null: taken from each request (its Host and scheme, as forwarded by a trusted proxy).
     */
    publicUrl: string | null;
    /** A request whose headers and body are not all received within this is answered 408 (slow-body clients). */
    requestTimeoutMs: number;
    /** Requests per window (0 = off); one window for all limits. See src/api/security.ts. */
    rateLimit: {
      windowMs: number;
      perIp: number;
      perIpIngest: number;
      /** Frames per camera key per cameraWindowMs: short, so a flooding camera meets 429 before its backlog limit. */
      perCamera: number;
      cameraWindowMs: number;
      loginPerIp: number;
      /** New Socket.IO connections per client IP per window (src/realtime/connection-limit.ts). */
      socketPerIp: number;
    };
  };
  /**
   * An enabled camera that has sent frames but none for this long is shown as silent (MASKWATCH_CAMERA_SILENT_S;
   * 0 = never; domain/camera-health.ts). At least 30 s: a camera's last-frame time is written every ~10 s.
   */
  cameraSilentSeconds: number;
  /** Dispatcher map background. Without a tile URL the map is a plain offline canvas. */
  map: {
    /** Slippy-map tile URL template with {z}, {x} and {y} (MASKWATCH_MAP_TILE_URL); null = no tiles. */
    tileUrl: string | null;
    /** Shown on the map, as most tile licences require (MASKWATCH_MAP_ATTRIBUTION). */
    attribution: string;
    maxZoom: number;
  };
  privacy: {
    /** Violation images and snapshots older than this are deleted (rows kept, anonymised). */
    retentionDays: number;
    /** How often the retention job runs. */
    retentionIntervalMinutes: number;
    /** Days to the review of an evidence hold set without a review date. */
    holdReviewDays: number;
  };
}

/**
 * The OpenID Connect relying party (src/auth/sso.ts). Accounts are made in MaskWatch (unless `groups`
 * makes them), and units are MaskWatch's (roles and zones too unless `groups` gives them); the directory
 * proves who signs in, matched by `usernameClaim` to a MaskWatch username at the first sign-on and by the
 * directory's subject from then on.
 */
export interface SsoConfig {
  /** MASKWATCH_SSO_ISSUER: https, or http on a loopback address (a provider on the same host, tests). */
  issuer: string;
  clientId: string;
  /** MASKWATCH_SSO_CLIENT_SECRET; null for a public client (PKCE only). */
  clientSecret: string | null;
  /** MASKWATCH_SSO_USERNAME_CLAIM (default preferred_username). */
  usernameClaim: string;
  /** The sign-in button's text (MASKWATCH_SSO_LABEL). */
  label: string;
  /** Roles that may sign in only through the directory (MASKWATCH_SSO_REQUIRED): their password sign-in is refused. */
  requiredRoles: Role[];
  /** A single sign-on session, renewals included, ends this long after the sign-on (MASKWATCH_SSO_SESSION_HOURS). */
  sessionHours: number;
  /** Roles and zones from the directory's groups (MASKWATCH_SSO_*_GROUPS); null: both are set in MaskWatch. */
  groups: DirectoryGroupMap | null;
}

/** The directory's provisioning client (src/api/routes/scim.ts): its bearer token, known only by its hash. */
export interface ScimConfig {
  /** MASKWATCH_SCIM_TOKEN_SHA256: the SHA-256 of the token, 64 hex digits (`maskwatch scim-token` makes both). */
  tokenSha256: string;
  /** MASKWATCH_SCIM_ROLES (default DISPATCHER): the roles the directory may give and take away; never OFFICER. */
  roles: Role[];
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

/** An on/off variable read outside the config (before it loads): the same spellings, a bad value named. */
export function envFlag(env: Env, name: string): boolean {
  return bool(env, name, false);
}

function confirmationSettings(env: Env): { confirmFrames: number; confirmWindow: number } {
  const confirmWindow = int(env, 'MASKWATCH_CONFIRM_WINDOW', DEFAULT_CONFIRMATION.confirmWindow, 1, 30);
  const confirmFrames = int(env, 'MASKWATCH_CONFIRM_FRAMES', Math.min(DEFAULT_CONFIRMATION.confirmFrames, confirmWindow), 1, 30);
  if (confirmFrames > confirmWindow) {
    throw new ConfigError('MASKWATCH_CONFIRM_FRAMES', `must not exceed MASKWATCH_CONFIRM_WINDOW (${confirmWindow}), got ${confirmFrames}`);
  }
  return { confirmFrames, confirmWindow };
}

/** none, all, or roles separated by commas. */
function roleList(env: Env, name: string): Role[] {
  const raw = env[name]?.trim().toUpperCase();
  if (!raw || raw === 'NONE') return [];
  if (raw === 'ALL') return [...ROLES];
  const roles = raw.split(',').map((r) => r.trim());
  const bad = roles.find((r) => !(ROLES as readonly string[]).includes(r));
  if (bad !== undefined) throw new ConfigError(name, `must be none, all or roles (${ROLES.join(', ')}) separated by commas, got "${env[name]}"`);
  return [...new Set(roles as Role[])];
}

/**
 * A role that must sign in with a security key must first have the app (keys are added under two-factor
 * sign-in), and browsers must be able to add one at the public address: https, or http on this host, by name.
 */
function mfaSettings(env: Env): Config['security']['mfa'] {
  const securityKeyRoles = roleList(env, 'MASKWATCH_SECURITY_KEY_REQUIRED');
  const requiredRoles = [...new Set([...roleList(env, 'MASKWATCH_MFA_REQUIRED'), ...securityKeyRoles])];
  const url = securityKeyRoles.length > 0 ? publicUrl(env, 'MASKWATCH_PUBLIC_URL') : null;
  if (url) {
    const { protocol, hostname } = new URL(url);
    const named = !/^[\d.]+$/.test(hostname) && !hostname.startsWith('[');
    if (!named || (protocol !== 'https:' && hostname !== 'localhost')) {
      throw new ConfigError(
        'MASKWATCH_SECURITY_KEY_REQUIRED',
        `browsers add security keys only over https and at a host name, and MASKWATCH_PUBLIC_URL is ${url}: those roles could never sign in`,
      );
    }
  }
  return { requiredRoles, securityKeyRoles };
}

function secretKey(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  if (raw.length < 32) throw new ConfigError(name, 'must be at least 32 characters (for example: openssl rand -base64 32)');
  return raw;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function ssoSettings(env: Env): SsoConfig | null {
  const issuer = env.MASKWATCH_SSO_ISSUER?.trim();
  const requiredRoles = roleList(env, 'MASKWATCH_SSO_REQUIRED');
  if (!issuer) {
    const needsIssuer = (
      [
        ['MASKWATCH_SSO_REQUIRED', requiredRoles.length > 0],
        ['MASKWATCH_SSO_ROLE_GROUPS', Boolean(env.MASKWATCH_SSO_ROLE_GROUPS?.trim())],
        ['MASKWATCH_SSO_ZONE_GROUPS', Boolean(env.MASKWATCH_SSO_ZONE_GROUPS?.trim())],
        ['MASKWATCH_SSO_CREATE_ACCOUNTS', bool(env, 'MASKWATCH_SSO_CREATE_ACCOUNTS', false)],
      ] as const
    ).find(([, set]) => set)?.[0];
    if (needsIssuer) throw new ConfigError(needsIssuer, 'needs MASKWATCH_SSO_ISSUER (single sign-on) to be set');
    return null;
  }
  let parsed: URL;
  try {
    parsed = new URL(issuer);
  } catch {
    throw new ConfigError('MASKWATCH_SSO_ISSUER', `"${issuer}" is not a URL like https://login.example.org/realms/police`);
  }
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname))) {
    throw new ConfigError('MASKWATCH_SSO_ISSUER', `must be an https URL (http only on this host, for a local provider), got "${issuer}"`);
  }
  const clientId = env.MASKWATCH_SSO_CLIENT_ID?.trim();
  if (!clientId) throw new ConfigError('MASKWATCH_SSO_CLIENT_ID', 'is required with MASKWATCH_SSO_ISSUER');
  const usernameClaim = env.MASKWATCH_SSO_USERNAME_CLAIM?.trim() || 'preferred_username';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(usernameClaim)) throw new ConfigError('MASKWATCH_SSO_USERNAME_CLAIM', `"${usernameClaim}" is not a claim name`);
  return {
    issuer,
    clientId,
    clientSecret: env.MASKWATCH_SSO_CLIENT_SECRET?.trim() || null,
    usernameClaim,
    label: env.MASKWATCH_SSO_LABEL?.trim().slice(0, 60) || 'Sign in with your agency account',
    requiredRoles,
    sessionHours: int(env, 'MASKWATCH_SSO_SESSION_HOURS', 12, 1, 720),
    groups: directoryGroups(env),
  };
}

/** Long enough for an agency's approved wording, short enough to be read before signing in. */
const SIGN_IN_NOTICE_MAX = 4000;

function signInNotice(env: Env, cwd: string): Config['security']['signInNotice'] {
  const inline = env.MASKWATCH_SIGN_IN_NOTICE;
  const file = env.MASKWATCH_SIGN_IN_NOTICE_FILE?.trim();
  if (inline?.trim() && file) throw new ConfigError('MASKWATCH_SIGN_IN_NOTICE_FILE', 'set either MASKWATCH_SIGN_IN_NOTICE or MASKWATCH_SIGN_IN_NOTICE_FILE, not both');
  const name = file ? 'MASKWATCH_SIGN_IN_NOTICE_FILE' : 'MASKWATCH_SIGN_IN_NOTICE';
  let raw = inline ?? '';
  if (file) {
    try {
      raw = readFileSync(path.resolve(cwd, file), 'utf8');
    } catch (err) {
      throw new ConfigError(name, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  // One form for every platform and editor: \n line ends, no trailing spaces, no blank lines at either end.
  const text = raw.replace(/\r\n?/g, '\n').split('\n').map((line) => line.trimEnd()).join('\n').trim();
  if (!text) {
    if (file) throw new ConfigError(name, `${file} is empty`);
    return null;
  }
  if (text.length > SIGN_IN_NOTICE_MAX) throw new ConfigError(name, `is ${text.length} characters; at most ${SIGN_IN_NOTICE_MAX}`);
  return { text, version: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

function scimSettings(env: Env): ScimConfig | null {
  const hash = env.MASKWATCH_SCIM_TOKEN_SHA256?.trim().toLowerCase();
  if (!hash) {
    if (env.MASKWATCH_SCIM_ROLES?.trim()) throw new ConfigError('MASKWATCH_SCIM_ROLES', 'needs MASKWATCH_SCIM_TOKEN_SHA256 (SCIM provisioning) to be set');
    return null;
  }
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new ConfigError('MASKWATCH_SCIM_TOKEN_SHA256', 'must be the SHA-256 of the token, 64 hex digits (`maskwatch scim-token` makes a token and its hash)');
  const roles = env.MASKWATCH_SCIM_ROLES?.trim() ? roleList(env, 'MASKWATCH_SCIM_ROLES') : (['DISPATCHER'] as Role[]);
  if (roles.includes('OFFICER')) throw new ConfigError('MASKWATCH_SCIM_ROLES', 'cannot include OFFICER: an officer needs a patrol unit, which an admin gives');
  return { tokenSha256: hash, roles };
}

/**
 * A JSON object of name → group or [groups], as the provider sends the groups (names, paths or ids).
 * `isName` checks each name; null when the variable is unset.
 */
function groupTable(env: Env, name: string, isName: (key: string) => string | null): Record<string, string[]> | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(name, `must be a JSON object such as {"DISPATCHER": ["mw-dispatch"]}, got ${JSON.stringify(raw.slice(0, 80))}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(name, 'must be a JSON object of name → group or [groups]');
  // fromEntries defines each key as its own property, "__proto__" included.
  return Object.fromEntries(
    Object.entries(parsed as Record<string, unknown>).map(([key, value]) => {
      const problem = isName(key);
      if (problem) throw new ConfigError(name, problem);
      const groups = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(groups) || groups.length === 0 || !groups.every((g) => typeof g === 'string' && g.trim().length > 0 && g.length <= 512)) {
        throw new ConfigError(name, `"${key}" needs a group name or a list of them (each 1–512 characters)`);
      }
      return [key, groups.map((g: string) => g.trim())];
    }),
  );
}

function directoryGroups(env: Env): DirectoryGroupMap | null {
  const roles = groupTable(env, 'MASKWATCH_SSO_ROLE_GROUPS', (key) =>
    (ROLES as readonly string[]).includes(key) ? null : `"${key}" is not a role (${ROLES.join(', ')})`,
  );
  const zones = groupTable(env, 'MASKWATCH_SSO_ZONE_GROUPS', (key) =>
    key.trim() === key && key.length > 0 && key.length <= 100 ? null : `"${key}" is not a zone name (1–100 characters, no surrounding spaces; "${EVERY_ZONE}" for every zone)`,
  );
  const claim = env.MASKWATCH_SSO_GROUPS_CLAIM?.trim() || 'groups';
  if (!/^[A-Za-z0-9_.:-]{1,100}$/.test(claim)) throw new ConfigError('MASKWATCH_SSO_GROUPS_CLAIM', `"${claim}" is not a claim name`);
  const createAccounts = bool(env, 'MASKWATCH_SSO_CREATE_ACCOUNTS', false);
  if (createAccounts && !roles) throw new ConfigError('MASKWATCH_SSO_CREATE_ACCOUNTS', 'needs MASKWATCH_SSO_ROLE_GROUPS: the directory\'s groups must give the accounts it makes their role');
  if (!roles && !zones) return null;
  return { claim, roles, zones, createAccounts };
}

/** The zones the settings name (directory groups, webhook targets), for Admin › Zones: a rename must change them too. */
export function zonesInSettings(config: Pick<Config, 'webhooks' | 'security'>): ZoneSetting[] {
  const groups = config.security.sso?.groups?.zones ?? {};
  return [
    ...Object.keys(groups)
      .filter((zone) => zone !== EVERY_ZONE)
      .map((zone) => ({ zone, by: 'MASKWATCH_SSO_ZONE_GROUPS' })),
    ...config.webhooks.flatMap((t) => (t.zones ?? []).map((zone) => ({ zone, by: `MASKWATCH_WEBHOOKS target ${t.name}` }))),
  ];
}

/** 0 (off), or 30 s to a week: a camera's last-frame time is written every ~10 s, so less would flicker. */
function silentSeconds(env: Env, name: string, fallback: number): number {
  const value = int(env, name, fallback, 0, 7 * 86_400);
  if (value > 0 && value < 30) throw new ConfigError(name, `must be 0 (off) or at least 30, got "${env[name]}"`);
  return value;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a number between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const raw = env[name] || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a valid URL: "${redactUrl(raw)}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.join(' or ')} (got "${parsed.protocol}")`);
  }
  return raw;
}

/** redis:// / rediss:// (one Redis) or redis+sentinel:// (Sentinel; see queue/redis-options.ts). */
function redisUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (!isSentinelUrl(raw)) url(env, name, fallback, ['redis:', 'rediss:', 'redis+sentinel:']);
  // One parser, one rule for both forms (e.g. the database number), so a bad value is a configuration error here.
  try {
    redisOptionsFromUrl(raw);
  } catch (err) {
    throw new ConfigError(name, (err as Error).message);
  }
  return raw;
}

function prefix(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(raw)) {
    throw new ConfigError(name, `may only contain letters, digits, "_", "." and "-" (got "${raw}")`);
  }
  return raw;
}

/** Comma-separated origins (scheme://host[:port]); "*" is refused: credentials-bearing APIs need an explicit list. */
function origins(env: Env, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  return raw
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      let parsed: URL;
      try {
        parsed = new URL(o);
      } catch {
        throw new ConfigError(name, `"${o}" is not an origin like https://dispatch.example.org`);
      }
      if (!['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== o.replace(/\/$/, '')) {
        throw new ConfigError(name, `"${o}" is not an origin like https://dispatch.example.org`);
      }
      return parsed.origin;
    });
}

function publicUrl(env: Env, name: string): string | null {
  const all = origins(env, name);
  if (all.length > 1) throw new ConfigError(name, 'must be one origin like https://dispatch.example.org');
  return all[0] ?? null;
}

/** An http(s) tile URL template with {z}, {x} and {y}, or null when unset. */
function tileTemplate(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  const missing = ['{z}', '{x}', '{y}'].filter((k) => !raw.includes(k));
  if (missing.length > 0) throw new ConfigError(name, `"${raw}" lacks ${missing.join(', ')}; expected e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png`);
  let parsed: URL;
  try {
    parsed = new URL(raw.replace(/\{[zxy]\}/g, '0'));
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (!['http:', 'https:'].includes(parsed.protocol)) throw new ConfigError(name, `"${raw}" must be an http(s) URL`);
  return raw;
}

/** Origin of a validated tile URL template (the dashboard's CSP must allow its images). */
export function tileOrigin(template: string): string {
  return new URL(template.replace(/\{[zxy]\}/g, '0')).origin;
}

function webhookTargets(env: Env, name: string): WebhookTarget[] {
  try {
    return parseWebhookTargets(env[name]);
  } catch (err) {
    if (err instanceof WebhookConfigError) throw new ConfigError(name, err.message.replace(/^MASKWATCH_WEBHOOKS: /, ''));
    throw err;
  }
}

/** Comma-separated IPv4/IPv6 addresses or CIDR ranges; "true"/"*" (trust anyone) is refused. */
function proxies(env: Env, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      if (!/^[0-9A-Fa-f:.]+(\/\d{1,3})?$/.test(p)) throw new ConfigError(name, `"${p}" is not an IP address or CIDR range`);
      return p;
    });
}

/** Default assets folder: ../shared beside the project root. */
export function defaultAssetsDir(root = REPO_ROOT): string {
  return path.resolve(root, '..', 'shared');
}

/** loadConfig for commands: an invalid configuration is written to `err` as one line and gives null (exit 1). */
export function loadConfigOrReport(err: { write(s: string): unknown }, env: Env = process.env): Config | null {
  try {
    return loadConfig(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    err.write(`maskwatch: invalid configuration: ${e.message}\n`);
    return null;
  }
}

/**
 * A path given in the environment is taken from the working directory, as a shell user means it; the
 * defaults are the project's (`data/`, `../shared`), so `npx maskwatch users add` run from another folder
 * (or a service without a working directory) still finds the database `npm start` uses.
 */
export function loadConfig(env: Env = process.env, cwd = process.cwd(), root = REPO_ROOT): Config {
  const dataDir = env.MASKWATCH_DATA_DIR ? path.resolve(cwd, env.MASKWATCH_DATA_DIR) : path.join(root, 'data');
  const assetsDir = env.MASKWATCH_ASSETS ? path.resolve(cwd, env.MASKWATCH_ASSETS) : defaultAssetsDir(root);
  if (env.MASKWATCH_ASSETS && !existsSync(assetsDir)) {
    throw new ConfigError('MASKWATCH_ASSETS', `folder does not exist: ${assetsDir}`);
  }
  const databaseUrl = url(env, 'DATABASE_URL', `file:${path.join(dataDir, 'maskwatch.db')}`, [
    'file:',
    'postgresql:',
    'postgres:',
  ]);
  const adminUser = env.MASKWATCH_ADMIN_USER;
  const adminPassword = env.MASKWATCH_ADMIN_PASSWORD;
  if (adminUser && !adminPassword) {
    throw new ConfigError('MASKWATCH_ADMIN_PASSWORD', 'is required when MASKWATCH_ADMIN_USER is set');
  }
  if (adminPassword && !adminUser) {
    throw new ConfigError('MASKWATCH_ADMIN_USER', 'is required when MASKWATCH_ADMIN_PASSWORD is set (the name of the first admin)');
  }
  if (adminPassword !== undefined && adminPassword.length < 12) {
    throw new ConfigError('MASKWATCH_ADMIN_PASSWORD', 'must be at least 12 characters');
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `unknown level "${logLevel}"`);
  }
  return {
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    databaseUrl,
    databasePoolSize: int(env, 'MASKWATCH_DB_POOL_SIZE', 10, 1, 1000),
    redisUrl: redisUrl(env, 'REDIS_URL', 'redis://127.0.0.1:6379'),
    queuePrefix: prefix(env, 'MASKWATCH_QUEUE_PREFIX', 'maskwatch'),
    dataDir,
    assetsDir,
    logLevel,
    admin: adminUser && adminPassword ? { username: adminUser, password: adminPassword } : null,
    adminMustChangePassword: bool(env, 'MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD', true),
    vision: {
      faceScoreThreshold: num(env, 'MASKWATCH_FACE_SCORE', 0.6, 0, 1),
      noMaskThreshold: env.MASKWATCH_NO_MASK_THRESHOLD ? num(env, 'MASKWATCH_NO_MASK_THRESHOLD', 0.5, 0, 1) : undefined,
      incorrectMaskPolicy: oneOf(env, 'MASKWATCH_INCORRECT_MASK', ['violation', 'ignore'] as const, 'violation'),
      secondOpinion: oneOf(env, 'MASKWATCH_SECOND_OPINION', SECOND_OPINION_KINDS, DEFAULT_SECOND_OPINION),
      minFaceSize: int(env, 'MASKWATCH_MIN_FACE_PX', 12, 1, 4096),
      intraOpThreads: int(env, 'MASKWATCH_INTRA_OP_THREADS', 1, 1, 64),
      reuse: {
        ...DEFAULT_REUSE,
        unchangedThreshold: num(env, 'MASKWATCH_UNCHANGED_THRESHOLD', DEFAULT_REUSE.unchangedThreshold, 0, 255),
        reclassifyEvery: int(env, 'MASKWATCH_RECLASSIFY_EVERY', DEFAULT_REUSE.reclassifyEvery, 1, 100),
        minConfidence: num(env, 'MASKWATCH_REUSE_MIN_CONFIDENCE', DEFAULT_REUSE.minConfidence, 0, 1),
      },
    },
    ingest: {
      maxFrameBytes: int(env, 'MASKWATCH_MAX_FRAME_BYTES', 8 * 1024 * 1024, 1024, 512 * 1024 * 1024),
      // CCTV frames are rarely above 12 MP (4K UHD is 8.3): 16 MP leaves room, and a 40-MP PNG of ~100 KB
      // (3.4 s and 170 MB of a worker) is refused from its header with 413.
      maxFramePixels: int(env, 'MASKWATCH_MAX_FRAME_PIXELS', 16_000_000, 1, 1_000_000_000),
      maxCameraBacklog: int(env, 'MASKWATCH_MAX_CAMERA_BACKLOG', 200, 1, 1_000_000),
    },
    alerts: {
      cooldownSeconds: int(env, 'MASKWATCH_ALERT_COOLDOWN_S', 60, 1, 86_400),
      confirmation: confirmationSettings(env),
      confirmThreshold: {
        noMask: num(env, 'MASKWATCH_CONFIRM_NO_MASK', DEFAULT_CONFIRMATION_THRESHOLD.noMask, 0.01, 1.01),
        incorrect: num(env, 'MASKWATCH_CONFIRM_INCORRECT', DEFAULT_CONFIRMATION_THRESHOLD.incorrect, 0.01, 1.01),
      },
      escalation: {
        dispatchSeconds: int(env, 'MASKWATCH_ESCALATE_DISPATCH_S', 120, 1, 86_400),
        ackSeconds: int(env, 'MASKWATCH_ESCALATE_ACK_S', 180, 1, 86_400),
        maxLevel: int(env, 'MASKWATCH_ESCALATE_MAX_LEVEL', 5, 0, 100),
      },
    },
    webhooks: webhookTargets(env, 'MASKWATCH_WEBHOOKS'),
    worker: {
      lockDurationMs: int(env, 'MASKWATCH_WORKER_LOCK_MS', 30_000, 1000, 600_000),
      stalledIntervalMs: int(env, 'MASKWATCH_WORKER_STALLED_INTERVAL_MS', 30_000, 500, 600_000),
      maxFrameAgeSeconds: num(env, 'MASKWATCH_MAX_FRAME_AGE_S', 10, 0, 86_400),
      stopTimeoutMs: int(env, 'MASKWATCH_WORKER_STOP_TIMEOUT_MS', 10_000, 1000, 600_000),
      detectionsConcurrency: int(env, 'MASKWATCH_DETECTIONS_CONCURRENCY', DEFAULT_DETECTIONS_CONCURRENCY, 1, 256),
      heapGrowthPercent: int(env, 'MASKWATCH_WORKER_HEAP_GROWTH_PERCENT', 100, 0, 1000),
    },
    tokenTtlSeconds: int(env, 'MASKWATCH_TOKEN_TTL_S', 12 * 3600, 60, 30 * 86_400),
    sessionCheckMs: int(env, 'MASKWATCH_SESSION_CHECK_MS', 2000, 100, 60_000),
    security: {
      corsOrigins: origins(env, 'MASKWATCH_CORS_ORIGINS'),
      loginMaxFailures: int(env, 'MASKWATCH_LOGIN_MAX_FAILURES', 5, 1, 1000),
      loginBaseDelayMs: int(env, 'MASKWATCH_LOGIN_DELAY_MS', 2000, 1, 3_600_000),
      loginLockSeconds: int(env, 'MASKWATCH_LOGIN_LOCK_S', 15 * 60, 1, 7 * 86_400),
      requestTimeoutMs: int(env, 'MASKWATCH_REQUEST_TIMEOUT_MS', 60_000, 1000, 3_600_000),
      trustProxy: proxies(env, 'MASKWATCH_TRUST_PROXY'),
      mfa: mfaSettings(env),
      secretKey: secretKey(env, 'MASKWATCH_SECRET_KEY'),
      sso: ssoSettings(env),
      scim: scimSettings(env),
      signInNotice: signInNotice(env, cwd),
      publicUrl: publicUrl(env, 'MASKWATCH_PUBLIC_URL'),
      disableInactiveDays: int(env, 'MASKWATCH_DISABLE_INACTIVE_DAYS', 0, 0, 3650),
      // Generous: the ingestion benchmark pushes > 2,000 frames/s from one IP over 20 cameras.
      rateLimit: {
        windowMs: int(env, 'MASKWATCH_RATE_WINDOW_MS', 60_000, 1000, 3_600_000),
        perIp: int(env, 'MASKWATCH_RATE_PER_IP', 3000, 0, 100_000_000),
        perIpIngest: int(env, 'MASKWATCH_RATE_INGEST_PER_IP', 1_200_000, 0, 100_000_000),
        // 5 frames/s sustained (agents default to 2): 50 per 10 s is met long before the 200-frame backlog.
        perCamera: int(env, 'MASKWATCH_RATE_PER_CAMERA', 50, 0, 100_000_000),
        cameraWindowMs: int(env, 'MASKWATCH_RATE_CAMERA_WINDOW_MS', 10_000, 1000, 3_600_000),
        loginPerIp: int(env, 'MASKWATCH_RATE_LOGIN_PER_IP', 60, 0, 100_000_000),
        socketPerIp: int(env, 'MASKWATCH_RATE_SOCKET_PER_IP', 120, 0, 100_000_000),
      },
    },
    cameraSilentSeconds: silentSeconds(env, 'MASKWATCH_CAMERA_SILENT_S', 300),
    map: {
      tileUrl: tileTemplate(env, 'MASKWATCH_MAP_TILE_URL'),
      attribution: (env.MASKWATCH_MAP_ATTRIBUTION ?? '').trim().slice(0, 200),
      maxZoom: int(env, 'MASKWATCH_MAP_MAX_ZOOM', 19, 0, 22),
    },
    privacy: {
      retentionDays: int(env, 'MASKWATCH_RETENTION_DAYS', 30, 1, 36_500),
      retentionIntervalMinutes: int(env, 'MASKWATCH_RETENTION_INTERVAL_MIN', 60, 1, 7 * 24 * 60),
      holdReviewDays: int(env, 'MASKWATCH_EVIDENCE_HOLD_REVIEW_DAYS', 90, 1, 3 * 365),
    },
  };
}
