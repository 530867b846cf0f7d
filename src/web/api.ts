/**
 * Typed HTTP client of the MaskWatch API. The bearer token lives in
 * sessionStorage (per tab, gone when the tab closes); a 401 sends the user back
 * to the login page.
 */
import type { AlertEvent } from '../realtime/events.ts';
import { OPEN_ALERT_STATUSES, type Role, type UnitStatus } from '../contracts/vocabulary.ts';
import type {
  AccountPatch,
  AuditEvent,
  AuditIntegrity,
  Camera,
  CameraInput,
  CameraPatch,
  CameraWithKey,
  Distribution,
  EvidenceAccess,
  EvidenceCaseInput,
  MfaRecoveryCodes,
  MfaSetup,
  Page,
  SecondFactorAnswer,
  SecurityKeyView,
  SessionView,
  SsoOffer,
  SignInNotice,
  EvidenceHold,
  EvidenceHoldInput,
  EvidenceHoldList,
  EvidenceSigningKey,
  Stats,
  SystemChecks,
  SuggestedUnit,
  TimelineEntry,
  Unit,
  UnitInput,
  UnitPatch,
  UserInput,
  UserSummary,
  Violation,
  WebhookDelivery,
  Zone,
  ZoneRenamed,
} from '../contracts/api.ts';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/browser';

// The response types are the API's own schemas' (src/contracts/api.ts), re-exported for the views.
export type { AuditEvent, AuditIntegrity, Camera, SystemChecks, CameraWithKey, Distribution, EvidenceAccess, EvidenceHold, MfaRecoveryCodes, MfaSetup, Page, SecondFactorAnswer, SecurityKeyView, SessionView, SignInNotice, SsoOffer, Role, Stats, SuggestedUnit, TimelineEntry, Unit, UnitStatus, UserSummary, Violation, WebhookDelivery, Zone, ZoneRenamed };

export interface CurrentUser {
  id: string;
  username: string;
  role: Role;
  unitId: string | null;
  /** A dispatcher's zones: only their cameras' alerts reach this user. Empty or absent (a session stored by an older version): every zone. */
  zones?: string[];
  /** The password must be changed before anything else (first admin from the environment, or reset by an admin). */
  mustChangePassword?: boolean;
  /** Signs in with an authenticator app's code too. */
  mfaEnabled?: boolean;
  /** The role must sign in with two factors and none is set up yet: set it up before anything else. */
  mfaSetupRequired?: boolean;
  /** The role must sign in with a security key and has none yet: add one before anything else. */
  securityKeySetupRequired?: boolean;
}

export interface Session {
  token: string;
  user: CurrentUser;
}

/** GET /api/v1/dashboard/settings: display settings from the server's environment. */
export interface DashboardSettings {
  map: MapSettings;
  /** An enabled camera that has sent frames but none for this long is silent (0 = never; domain/camera-health.ts). */
  cameraSilentSeconds: number;
}

export interface MapSettings {
  tileUrl: string | null;
  attribution: string;
  maxZoom: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string | undefined,
    /** The problem's type slug (e.g. `mfa-required`), when the server sent one. */
    readonly code?: string,
    /** A login's 401 mfa-required (or security-key-required) for an account with security keys: the challenge for them. */
    readonly securityKey?: PublicKeyCredentialRequestOptionsJSON,
  ) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ApiError';
  }
}

/** fetch's own failure, or no answer in time: no connection (the request may or may not have reached the server). */
export function isNetworkError(err: unknown): boolean {
  if (err instanceof DOMException) return err.name === 'TimeoutError'; // an AbortSignal.timeout ran out
  return err instanceof TypeError && /fetch|network|load failed/i.test(err.message);
}

type Query = Record<string, string | number | undefined | null>;

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export type AlertAction = 'dispatch' | 'acknowledge' | 'en-route' | 'on-scene' | 'resolve' | 'dismiss';

export class Api {
  constructor(
    private readonly getToken: () => string | null,
    private readonly onUnauthorized: () => void,
  ) {}

  private async send(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { ...extraHeaders, accept: 'application/json' };
    const token = this.getToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
    if (res.status === 401 && token) this.onUnauthorized();
    if (!res.ok) {
      let title = res.statusText || `HTTP ${res.status}`;
      let detail: string | undefined;
      let code: string | undefined;
      let securityKey: PublicKeyCredentialRequestOptionsJSON | undefined;
      try {
        const problem = (await res.json()) as { type?: string; title?: string; detail?: string; message?: string; securityKey?: PublicKeyCredentialRequestOptionsJSON };
        title = problem.title ?? title;
        detail = problem.detail ?? problem.message;
        code = problem.type?.split('/').pop();
        securityKey = problem.securityKey;
      } catch {
        // not JSON: keep the status text
      }
      throw new ApiError(res.status, title, detail, code, securityKey);
    }
    return res;
  }

  async json<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>, signal?: AbortSignal): Promise<T> {
    const res = await this.send(method, path, body, headers, signal);
    return (res.status === 204 ? undefined : await res.json()) as T;
  }

  /** A download: GET, or POST with a JSON body. */
  async blob(path: string, body?: unknown): Promise<Blob> {
    return (await this.send(body === undefined ? 'GET' : 'POST', path, body)).blob();
  }

  /** `answer`: the app's code or a security key's answer, for accounts with two-factor sign-in (401 mfa-required without it). */
  login(username: string, password: string, answer: SecondFactorAnswer = {}, noticeVersion?: string | null) {
    return this.json<{ token: string; expiresAt?: string; user?: CurrentUser }>('POST', '/api/v1/auth/login', { username, password, ...answer, ...(noticeVersion ? { noticeVersion } : {}) });
  }
  /** The agency's sign-in notice, accepted before signing in (`text` null: none). */
  signInNotice() {
    return this.json<SignInNotice>('GET', '/api/v1/auth/sign-in-notice');
  }
  /** Whether the sign-in page offers single sign-on, and the button's text. */
  ssoOffer() {
    return this.json<SsoOffer>('GET', '/api/v1/auth/sso');
  }
  /** The session of a finished single sign-on (its HttpOnly cookie is the credential). */
  ssoExchange(noticeVersion?: string | null) {
    return this.json<{ token: string; expiresAt?: string; user?: CurrentUser }>('POST', '/api/v1/auth/sso/exchange', noticeVersion ? { noticeVersion } : undefined);
  }
  mfaSetup(password: string) {
    return this.json<MfaSetup>('POST', '/api/v1/auth/mfa/setup', { password });
  }
  /** Turns it on; the answer's recovery codes are shown this once. */
  mfaEnable(code: string) {
    return this.json<MfaRecoveryCodes>('POST', '/api/v1/auth/mfa/enable', { code });
  }
  /** Where the user is signed in. */
  sessions() {
    return this.json<{ items: SessionView[] }>('GET', '/api/v1/auth/sessions');
  }
  endSession(id: string) {
    return this.json<void>('DELETE', `/api/v1/auth/sessions/${encodeURIComponent(id)}`);
  }
  mfaRecoveryCodes(password: string) {
    return this.json<MfaRecoveryCodes>('POST', '/api/v1/auth/mfa/recovery-codes', { password });
  }
  mfaDisable(password: string, code: string) {
    return this.json<void>('POST', '/api/v1/auth/mfa/disable', { password, code });
  }

  securityKeys() {
    return this.json<{ items: SecurityKeyView[] }>('GET', '/api/v1/auth/mfa/keys');
  }

  securityKeyOptions(password: string) {
    return this.json<PublicKeyCredentialCreationOptionsJSON>('POST', '/api/v1/auth/mfa/keys/options', { password });
  }

  addSecurityKey(name: string, credential: RegistrationResponseJSON) {
    return this.json<SecurityKeyView>('POST', '/api/v1/auth/mfa/keys', { name, credential });
  }

  removeSecurityKey(id: string) {
    return this.json<void>('DELETE', `/api/v1/auth/mfa/keys/${encodeURIComponent(id)}`);
  }
  /** A new token before the current one expires (shift-long pages); 401 once it has. */
  refresh() {
    return this.json<{ token: string; expiresAt: string; expiresInSeconds: number; user: CurrentUser }>('POST', '/api/v1/auth/refresh');
  }
  me() {
    return this.json<CurrentUser>('GET', '/api/v1/auth/me');
  }
  audit(query: Query = {}) {
    return this.json<Page<AuditEvent>>('GET', withQuery('/api/v1/audit', query));
  }
  webhookDeliveries(query: Query = {}) {
    return this.json<Page<WebhookDelivery>>('GET', withQuery('/api/v1/webhooks/deliveries', query));
  }
  settings() {
    return this.json<DashboardSettings>('GET', '/api/v1/dashboard/settings');
  }
  logout() {
    return this.json<void>('POST', '/api/v1/auth/logout');
  }

  alerts(query: Query = {}) {
    return this.json<Page<AlertEvent>>('GET', withQuery('/api/v1/alerts', query));
  }
  /**
   * Every open alert (one query per open status, so old open alerts are never
   * pushed out by newer closed ones) plus the most recent ones of any status.
   */
  async openAndRecentAlerts(recent = 50): Promise<AlertEvent[]> {
    const pages = await Promise.all([...OPEN_ALERT_STATUSES.map((status) => this.alerts({ status, limit: 200 })), this.alerts({ limit: recent })]);
    return pages.flatMap((p) => p.items);
  }
  alert(id: string) {
    return this.json<AlertEvent>('GET', `/api/v1/alerts/${encodeURIComponent(id)}`);
  }
  /** `signal`: gives up (a TimeoutError) when it aborts. */
  alertAction(id: string, action: AlertAction, body: Record<string, string> = {}, signal?: AbortSignal) {
    return this.json<AlertEvent>('POST', `/api/v1/alerts/${encodeURIComponent(id)}/${action}`, body, undefined, signal);
  }
  /**
   * Adds a note to an open incident; answers the alert (its noteCount raised). A note sent late says when it was
   * written (`tappedAt`); sent again under the same `idempotencyKey`, it is recorded once.
   */
  addNote(alertId: string, text: string, sent: { tappedAt?: string; idempotencyKey?: string; signal?: AbortSignal } = {}) {
    const headers: Record<string, string> = sent.idempotencyKey ? { 'idempotency-key': sent.idempotencyKey } : {};
    const body = { text, ...(sent.tappedAt ? { tappedAt: sent.tappedAt } : {}) };
    return this.json<AlertEvent>('POST', `/api/v1/alerts/${encodeURIComponent(alertId)}/notes`, body, headers, sent.signal);
  }
  timeline(alertId: string) {
    return this.json<{ items: TimelineEntry[] }>('GET', `/api/v1/alerts/${encodeURIComponent(alertId)}/timeline`);
  }
  /** Recomputes every seal of the audit trail (reads the whole sealed trail: on request only). */
  auditIntegrity() {
    return this.json<AuditIntegrity>('GET', '/api/v1/audit/integrity');
  }
  evidenceAccess(alertId: string) {
    return this.json<EvidenceAccess>('GET', `/api/v1/alerts/${encodeURIComponent(alertId)}/evidence-access`);
  }
  /** Alerts whose evidence is kept past retention (admins). */
  evidenceHolds() {
    return this.json<EvidenceHoldList>('GET', '/api/v1/evidence-holds');
  }
  holdEvidence(alertId: string, input: EvidenceHoldInput) {
    return this.json<EvidenceHold>('PUT', `/api/v1/alerts/${encodeURIComponent(alertId)}/hold`, input);
  }
  /** The incident's evidence package (ZIP); the export is audited. */
  evidencePackage(alertId: string) {
    return this.blob(`/api/v1/alerts/${encodeURIComponent(alertId)}/evidence-package`);
  }
  /** A case's evidence package: several incidents under the agency's case reference. */
  casePackage(input: EvidenceCaseInput) {
    return this.blob('/api/v1/evidence-packages', input);
  }
  /** The deployment checks of `maskwatch doctor`, run now by the answering API instance (admins). */
  systemChecks() {
    return this.json<SystemChecks>('GET', '/api/v1/system/checks');
  }
  /** The public key that signs evidence packages, to hand to whoever receives them. */
  evidenceSigningKey() {
    return this.json<EvidenceSigningKey>('GET', '/api/v1/evidence-signing-key');
  }
  releaseEvidence(alertId: string) {
    return this.json<void>('DELETE', `/api/v1/alerts/${encodeURIComponent(alertId)}/hold`);
  }
  suggestedUnits(alertId: string) {
    return this.json<{ items: SuggestedUnit[] }>('GET', `/api/v1/alerts/${encodeURIComponent(alertId)}/suggested-units`);
  }

  units() {
    return this.json<{ items: Unit[] }>('GET', '/api/v1/units');
  }
  createUnit(body: UnitInput) {
    return this.json<Unit>('POST', '/api/v1/units', body);
  }
  updateUnit(id: string, body: UnitPatch, signal?: AbortSignal) {
    return this.json<Unit>('PATCH', `/api/v1/units/${encodeURIComponent(id)}`, body, undefined, signal);
  }
  deleteUnit(id: string) {
    return this.json<void>('DELETE', `/api/v1/units/${encodeURIComponent(id)}`);
  }
  reportPosition(id: string, latitude: number, longitude: number) {
    return this.json<Unit>('POST', `/api/v1/units/${encodeURIComponent(id)}/position`, { latitude, longitude });
  }
  setMembers(id: string, userIds: string[]) {
    return this.json<Unit>('PUT', `/api/v1/units/${encodeURIComponent(id)}/members`, { userIds });
  }

  cameras() {
    return this.json<{ items: Camera[] } | Camera[]>('GET', '/api/v1/cameras').then((r) => (Array.isArray(r) ? r : r.items));
  }
  /** Every zone with its cameras, open alerts and the dispatchers who see it (admins). */
  zones() {
    return this.json<{ items: Zone[] }>('GET', '/api/v1/zones').then((r) => r.items);
  }
  renameZone(from: string, to: string) {
    return this.json<ZoneRenamed>('POST', '/api/v1/zones/rename', { from, to });
  }
  createCamera(body: CameraInput) {
    return this.json<CameraWithKey>('POST', '/api/v1/cameras', body);
  }
  updateCamera(id: string, body: CameraPatch) {
    return this.json<Camera>('PATCH', `/api/v1/cameras/${encodeURIComponent(id)}`, body);
  }
  rotateCameraKey(id: string) {
    return this.json<CameraWithKey>('POST', `/api/v1/cameras/${encodeURIComponent(id)}/rotate-key`);
  }

  violations(query: Query) {
    return this.json<Page<Violation>>('GET', withQuery('/api/v1/violations', query));
  }
  violationsCsv(query: Query) {
    return this.blob(withQuery('/api/v1/violations.csv', query));
  }
  stats(query: Query) {
    return this.json<Stats>('GET', withQuery('/api/v1/stats', query));
  }

  users() {
    return this.json<{ items: UserSummary[] } | UserSummary[]>('GET', '/api/v1/users').then((r) =>
      Array.isArray(r) ? r : r.items,
    );
  }
  createUser(body: UserInput) {
    return this.json<UserSummary>('POST', '/api/v1/users', body);
  }
  /** Role, unit or enabled; a role or unit change or disabling ends the user's sessions. */
  updateUser(id: string, body: AccountPatch) {
    return this.json<UserSummary>('PATCH', `/api/v1/users/${encodeURIComponent(id)}`, body);
  }
  resetUserPassword(id: string, password: string, mustChangePassword: boolean) {
    return this.json<void>('POST', `/api/v1/users/${encodeURIComponent(id)}/password`, { password, mustChangePassword });
  }
  resetUserMfa(id: string) {
    return this.json<void>('DELETE', `/api/v1/users/${encodeURIComponent(id)}/mfa`);
  }
  unlinkUserSso(id: string) {
    return this.json<void>('DELETE', `/api/v1/users/${encodeURIComponent(id)}/sso`);
  }
  /** Where a user is signed in (admin). */
  userSessions(id: string) {
    return this.json<{ items: SessionView[] }>('GET', `/api/v1/users/${encodeURIComponent(id)}/sessions`);
  }
  endUserSession(id: string, sessionId: string) {
    return this.json<void>('DELETE', `/api/v1/users/${encodeURIComponent(id)}/sessions/${encodeURIComponent(sessionId)}`);
  }
  revokeUserSessions(id: string) {
    return this.json<void>('DELETE', `/api/v1/users/${encodeURIComponent(id)}/sessions`);
  }
  deleteUser(id: string) {
    return this.json<void>('DELETE', `/api/v1/users/${encodeURIComponent(id)}`);
  }
  changeOwnPassword(currentPassword: string, newPassword: string) {
    return this.json<void>('POST', '/api/v1/auth/password', { currentPassword, newPassword });
  }
}
