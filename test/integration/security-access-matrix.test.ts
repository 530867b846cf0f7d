/**
 * Access-control matrix (issue 6, item 2): every HTTP route of the running app
 * × {anonymous, camera key, OFFICER of unit A, OFFICER of unit B, DISPATCHER,
 * ADMIN} → the expected status, plus Socket.IO connections and rooms, snapshots,
 * and disabled / rotated camera keys. The route list is read from the Fastify
 * instance itself: a route added without a matrix entry fails this test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Emitter } from '@socket.io/redis-emitter';
import { io as connect, type Socket } from 'socket.io-client';
import { call, createTestStack, loginAs, type TestStack } from '../helpers/api.ts';
import { rawRequest } from '../fixtures/hostile/raw-http.ts';
import { createAlertPublisher } from '../../src/realtime/publisher.ts';
import { socketIoRedisKey } from '../../src/realtime/channel.ts';
import { DISPATCH_ROOM, unitRoom } from '../../src/realtime/rooms.ts';
import type { AlertEvent, ServerToClientEvents } from '../../src/realtime/events.ts';
import type { ApiInstance } from '../../src/system/api-instance.ts';
import { withTimeout } from '../helpers/wait.ts';

const JPEG = await readFile(path.resolve(process.cwd(), '..', 'shared', 'datasets/kaggle-scenes-dev/images/maksssksksss1.jpg'));

const ROLES = ['anonymous', 'camera', 'officerA', 'officerB', 'dispatcher', 'admin'] as const;
type Who = (typeof ROLES)[number];
/** A number = that exact status; 'ok' = passed access control (any status but 401/403, never 5xx). */
type Expect = number | 'ok';

/**
 * Parses `printRoutes()` (a radix tree: each line's label is appended to its
 * parent's) into "METHOD /path" strings; HEAD (auto-added for GET) is skipped.
 */
export function routesFromTree(tree: string): string[] {
  const stack: { col: number; prefix: string }[] = [];
  const out: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^(.*?)(?:├── |└── )(.*)$/.exec(line);
    if (!m) continue;
    const col = m[1]!.length;
    const [, label, methods] = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(m[2]!)!;
    while (stack.length && stack[stack.length - 1]!.col >= col) stack.pop();
    const full = (stack[stack.length - 1]?.prefix ?? '') + label;
    stack.push({ col, prefix: full });
    for (const method of methods?.split(', ') ?? []) if (method !== 'HEAD') out.push(`${method} ${full}`);
  }
  return out.sort();
}

interface Ids {
  cameraId: string;
  unitA: string;
  unitB: string;
  alertA: string;
  alertNew: string;
  snapshotA: string;
  snapshotNew: string;
  frameA: string;
  frameNew: string;
}

interface Case {
  /** Short description of what this request probes. */
  probe: string;
  method: string;
  url: (ids: Ids) => string;
  body?: unknown;
  /** Raw body with its content type (frames). */
  raw?: { type: string; data: Buffer };
  expect: Record<Who, Expect>;
}

const ANY_USER = { anonymous: 401, camera: 401, officerA: 'ok', officerB: 'ok', dispatcher: 'ok', admin: 'ok' } as const;
const COMMAND = { anonymous: 401, camera: 401, officerA: 403, officerB: 403, dispatcher: 'ok', admin: 'ok' } as const;
const ADMIN_ONLY = { anonymous: 401, camera: 401, officerA: 403, officerB: 403, dispatcher: 403, admin: 'ok' } as const;
const OFFICERS = { anonymous: 401, camera: 401, officerA: 'ok', officerB: 'ok', dispatcher: 403, admin: 403 } as const;
const PUBLIC = { anonymous: 'ok', camera: 'ok', officerA: 'ok', officerB: 'ok', dispatcher: 'ok', admin: 'ok' } as const;
const NOBODY = { anonymous: 401, camera: 401, officerA: 401, officerB: 401, dispatcher: 401, admin: 401 } as const;
/** A body no route accepts: requests that pass access control stop at validation (400), so nothing changes. */
const INVALID = { '¬valid': true };

/** Route → the requests that probe it. Keys must equal the app's routes exactly. */
const MATRIX: Record<string, Case[]> = {
  'GET /healthz': [{ probe: 'liveness', method: 'GET', url: () => '/healthz', expect: PUBLIC }],
  'GET /readyz': [{ probe: 'readiness', method: 'GET', url: () => '/readyz', expect: PUBLIC }],
  'GET /metrics': [{ probe: 'prometheus (bind to an internal network; see SECURITY.md)', method: 'GET', url: () => '/metrics', expect: PUBLIC }],
  'GET /docs': [{ probe: 'OpenAPI UI', method: 'GET', url: () => '/docs', expect: PUBLIC }],
  'GET /docs/': [{ probe: 'OpenAPI UI', method: 'GET', url: () => '/docs/', expect: PUBLIC }],
  'GET /docs/json': [{ probe: 'OpenAPI document', method: 'GET', url: () => '/docs/json', expect: PUBLIC }],
  'GET /docs/yaml': [{ probe: 'OpenAPI document', method: 'GET', url: () => '/docs/yaml', expect: PUBLIC }],
  'GET /docs/static/index.html': [{ probe: 'OpenAPI UI', method: 'GET', url: () => '/docs/static/index.html', expect: PUBLIC }],
  'GET /docs/static/swagger-initializer.js': [{ probe: 'OpenAPI UI', method: 'GET', url: () => '/docs/static/swagger-initializer.js', expect: PUBLIC }],
  'GET /docs/static/*': [{ probe: 'OpenAPI UI assets', method: 'GET', url: () => '/docs/static/swagger-ui.css', expect: PUBLIC }],
  'POST /api/v1/auth/login': [{ probe: 'login is public', method: 'POST', url: () => '/api/v1/auth/login', body: INVALID, expect: PUBLIC }],
  // Single sign-on is not configured here: its routes answer 404 sso-disabled to everyone (security-sso covers them configured).
  // SCIM provisioning takes only the directory's token (scim.test.ts covers it): every session and camera key gets 401.
  'GET /scim/v2/ServiceProviderConfig': [{ probe: 'SCIM capabilities', method: 'GET', url: () => '/scim/v2/ServiceProviderConfig', expect: NOBODY }],
  'GET /scim/v2/Users': [{ probe: 'SCIM accounts', method: 'GET', url: () => '/scim/v2/Users', expect: NOBODY }],
  'POST /scim/v2/Users': [{ probe: 'SCIM create', method: 'POST', url: () => '/scim/v2/Users', body: { userName: 'intruder', roles: [{ value: 'ADMIN' }] }, expect: NOBODY }],
  'GET /scim/v2/Users/:id': [{ probe: 'SCIM account', method: 'GET', url: () => '/scim/v2/Users/x', expect: NOBODY }],
  'PUT /scim/v2/Users/:id': [{ probe: 'SCIM replace', method: 'PUT', url: () => '/scim/v2/Users/x', body: { userName: 'x' }, expect: NOBODY }],
  'PATCH /scim/v2/Users/:id': [{ probe: 'SCIM change', method: 'PATCH', url: () => '/scim/v2/Users/x', body: { Operations: [{ op: 'replace', path: 'active', value: false }] }, expect: NOBODY }],
  'DELETE /scim/v2/Users/:id': [{ probe: 'SCIM delete', method: 'DELETE', url: () => '/scim/v2/Users/x', expect: NOBODY }],
  'GET /api/v1/auth/sign-in-notice': [{ probe: 'the sign-in notice, read before signing in', method: 'GET', url: () => '/api/v1/auth/sign-in-notice', expect: PUBLIC }],
  'GET /api/v1/auth/sso': [{ probe: 'whether single sign-on is offered', method: 'GET', url: () => '/api/v1/auth/sso', expect: PUBLIC }],
  'GET /api/v1/auth/sso/start': [{ probe: 'single sign-on begins (a navigation)', method: 'GET', url: () => '/api/v1/auth/sso/start', expect: PUBLIC }],
  'GET /api/v1/auth/sso/callback': [{ probe: "the provider's redirect back", method: 'GET', url: () => '/api/v1/auth/sso/callback?code=x&state=y', expect: PUBLIC }],
  'GET /api/v1/auth/sso/logout': [{ probe: "on to the provider's sign-out (a navigation)", method: 'GET', url: () => '/api/v1/auth/sso/logout', expect: PUBLIC }],
  'POST /api/v1/auth/sso/exchange': [{ probe: 'a finished sign-on collected (its cookie is the credential)', method: 'POST', url: () => '/api/v1/auth/sso/exchange', expect: PUBLIC }],
  'POST /api/v1/auth/logout': [{ probe: 'logout (throwaway sessions)', method: 'POST', url: () => '/api/v1/auth/logout', expect: { ...ANY_USER, officerA: 204, officerB: 204, dispatcher: 204, admin: 204 } }],
  'POST /api/v1/auth/refresh': [{ probe: 'renew the session (throwaway sessions)', method: 'POST', url: () => '/api/v1/auth/refresh', expect: { ...ANY_USER, officerA: 200, officerB: 200, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/webhooks/deliveries': [{ probe: 'webhook delivery log', method: 'GET', url: () => '/api/v1/webhooks/deliveries', expect: { ...ADMIN_ONLY, admin: 200 } }],
  'GET /api/v1/audit': [{ probe: 'audit trail', method: 'GET', url: () => '/api/v1/audit', expect: { ...ADMIN_ONLY, admin: 200 } }],
  'GET /api/v1/dashboard/settings': [{ probe: 'map tiles and display settings', method: 'GET', url: () => '/api/v1/dashboard/settings', expect: { ...ANY_USER, officerA: 200, officerB: 200, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/auth/me': [{ probe: 'own profile', method: 'GET', url: () => '/api/v1/auth/me', expect: { ...ANY_USER, officerA: 200, officerB: 200, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/alerts': [{ probe: 'alert list (officers filtered, see below)', method: 'GET', url: () => '/api/v1/alerts', expect: { ...ANY_USER, officerA: 200, officerB: 200, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/alerts/:id/suggested-units': [{ probe: 'dispatch support', method: 'GET', url: (i) => `/api/v1/alerts/${i.alertA}/suggested-units`, expect: { ...COMMAND, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/alerts/:id/evidence-access': [
    { probe: "who viewed an alert's evidence", method: 'GET', url: (i) => `/api/v1/alerts/${i.alertA}/evidence-access`, expect: { ...ADMIN_ONLY, admin: 200 } },
  ],
  'GET /api/v1/alerts/:id/timeline': [
    { probe: "audit trail of unit A's alert (unit B's officer: 404)", method: 'GET', url: (i) => `/api/v1/alerts/${i.alertA}/timeline`, expect: { ...ANY_USER, officerA: 200, officerB: 404, dispatcher: 200, admin: 200 } },
  ],
  'POST /api/v1/alerts/:id/notes': [
    { probe: 'schema', method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/notes`, body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } },
    { probe: "a note on unit A's alert (unit B's officer: 404)", method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/notes`, body: { text: 'Subject left northbound' }, expect: { ...ANY_USER, officerA: 200, officerB: 404, dispatcher: 200, admin: 200 } },
  ],
  'GET /api/v1/alerts/:id': [
    { probe: 'one incident with its people (officers: their unit only)', method: 'GET', url: (i) => `/api/v1/alerts/${i.alertA}`, expect: { ...ANY_USER, officerA: 200, officerB: 404, dispatcher: 200, admin: 200 } },
  ],
  'GET /api/v1/alerts/:id/people/:personId/track': [
    { probe: "a person's crops (unknown person)", method: 'GET', url: (i) => `/api/v1/alerts/${i.alertA}/people/nobody/track`, expect: { ...ANY_USER, officerA: 404, officerB: 404, dispatcher: 404, admin: 404 } },
  ],
  'GET /api/v1/alerts/:id/frames/:frameId': [
    { probe: "unit A's alert frame (officers: their unit only; every refusal the same 404)", method: 'GET', url: (i) => `/api/v1/alerts/${i.alertA}/frames/${i.frameA}`, expect: { ...ANY_USER, officerA: 200, officerB: 404, dispatcher: 200, admin: 200 } },
    { probe: 'a frame the alert does not show', method: 'GET', url: (i) => `/api/v1/alerts/${i.alertA}/frames/${i.frameNew}`, expect: { ...ANY_USER, officerA: 404, officerB: 404, dispatcher: 404, admin: 404 } },
  ],
  'POST /api/v1/alerts/:id/people/:personId/false-positive': [
    { probe: 'mark one person a false positive', method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/people/nobody/false-positive`, body: INVALID, expect: { ...COMMAND, dispatcher: 400, admin: 400 } },
  ],
  'POST /api/v1/alerts/:id/dispatch': [{ probe: 'assign a unit', method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/dispatch`, body: INVALID, expect: { ...COMMAND, dispatcher: 400, admin: 400 } }],
  'POST /api/v1/alerts/:id/dismiss': [{ probe: 'dismiss', method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/dismiss`, body: INVALID, expect: { ...COMMAND, dispatcher: 400, admin: 400 } }],
  'POST /api/v1/alerts/:id/acknowledge': [
    { probe: 'role check', method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/acknowledge`, body: INVALID, expect: { ...OFFICERS, officerA: 400, officerB: 400 } },
  ],
  'POST /api/v1/alerts/:id/en-route': [{ probe: 'role check', method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/en-route`, body: INVALID, expect: { ...OFFICERS, officerA: 400, officerB: 400 } }],
  'POST /api/v1/alerts/:id/on-scene': [{ probe: 'role check', method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/on-scene`, body: INVALID, expect: { ...OFFICERS, officerA: 400, officerB: 400 } }],
  'POST /api/v1/alerts/:id/resolve': [{ probe: 'role check', method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/resolve`, body: INVALID, expect: { ...OFFICERS, officerA: 400, officerB: 400 } }],
  'GET /api/v1/users': [{ probe: 'user list', method: 'GET', url: () => '/api/v1/users', expect: { ...ADMIN_ONLY, admin: 200 } }],
  'POST /api/v1/users': [{ probe: 'create user', method: 'POST', url: () => '/api/v1/users', body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'PATCH /api/v1/users/:id': [{ probe: 'role / unit / enabled', method: 'PATCH', url: () => `/api/v1/users/${randomUUID()}`, body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'DELETE /api/v1/users/:id': [{ probe: 'delete (unknown id)', method: 'DELETE', url: () => `/api/v1/users/${randomUUID()}`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'POST /api/v1/users/:id/password': [{ probe: 'admin password reset', method: 'POST', url: () => `/api/v1/users/${randomUUID()}/password`, body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'DELETE /api/v1/users/:id/sessions': [{ probe: 'revoke sessions (unknown id)', method: 'DELETE', url: () => `/api/v1/users/${randomUUID()}/sessions`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'GET /api/v1/audit/integrity': [{ probe: 'verify the audit trail', method: 'GET', url: () => '/api/v1/audit/integrity', expect: ADMIN_ONLY }],
  'GET /api/v1/users/:id/sessions': [{ probe: "a user's sessions (unknown id)", method: 'GET', url: () => `/api/v1/users/${randomUUID()}/sessions`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'GET /api/v1/auth/sessions': [{ probe: 'own sessions', method: 'GET', url: () => '/api/v1/auth/sessions', expect: ANY_USER }],
  'DELETE /api/v1/auth/sessions/:id': [{ probe: 'sign out a session (unknown id)', method: 'DELETE', url: () => `/api/v1/auth/sessions/${randomUUID()}`, expect: { ...ANY_USER, officerA: 404, officerB: 404, dispatcher: 404, admin: 404 } }],
  'DELETE /api/v1/users/:id/sessions/:sessionId': [
    { probe: "sign one of a user's sessions out (unknown ids)", method: 'DELETE', url: () => `/api/v1/users/${randomUUID()}/sessions/${randomUUID()}`, expect: { ...ADMIN_ONLY, admin: 404 } },
  ],
  'DELETE /api/v1/users/:id/sso': [{ probe: 'unlink from the directory (unknown id)', method: 'DELETE', url: () => `/api/v1/users/${randomUUID()}/sso`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'DELETE /api/v1/users/:id/mfa': [{ probe: 'reset two-factor sign-in (unknown id)', method: 'DELETE', url: () => `/api/v1/users/${randomUUID()}/mfa`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'POST /api/v1/auth/mfa/setup': [{ probe: 'two-factor setup', method: 'POST', url: () => '/api/v1/auth/mfa/setup', body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } }],
  'POST /api/v1/auth/mfa/enable': [{ probe: 'two-factor enable', method: 'POST', url: () => '/api/v1/auth/mfa/enable', body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } }],
  'POST /api/v1/auth/mfa/recovery-codes': [{ probe: 'new recovery codes', method: 'POST', url: () => '/api/v1/auth/mfa/recovery-codes', body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } }],
  'GET /api/v1/auth/mfa/keys': [{ probe: 'own security keys', method: 'GET', url: () => '/api/v1/auth/mfa/keys', expect: ANY_USER }],
  'POST /api/v1/auth/mfa/keys/options': [{ probe: 'security key challenge', method: 'POST', url: () => '/api/v1/auth/mfa/keys/options', body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } }],
  'POST /api/v1/auth/mfa/keys': [{ probe: 'add a security key', method: 'POST', url: () => '/api/v1/auth/mfa/keys', body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } }],
  'DELETE /api/v1/auth/mfa/keys/:id': [{ probe: 'remove a security key (unknown id)', method: 'DELETE', url: () => `/api/v1/auth/mfa/keys/${randomUUID()}`, expect: { ...ANY_USER, officerA: 404, officerB: 404, dispatcher: 404, admin: 404 } }],
  'POST /api/v1/auth/mfa/disable': [{ probe: 'two-factor disable', method: 'POST', url: () => '/api/v1/auth/mfa/disable', body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } }],
  'POST /api/v1/auth/password': [{ probe: 'own password change', method: 'POST', url: () => '/api/v1/auth/password', body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } }],
  'GET /api/v1/units': [{ probe: 'unit board', method: 'GET', url: () => '/api/v1/units', expect: { ...ANY_USER, officerA: 200, officerB: 200, dispatcher: 200, admin: 200 } }],
  'POST /api/v1/units': [{ probe: 'create unit', method: 'POST', url: () => '/api/v1/units', body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'GET /api/v1/units/:id': [{ probe: "unit A (hidden from unit B's officers)", method: 'GET', url: (i) => `/api/v1/units/${i.unitA}`, expect: { ...ANY_USER, officerA: 200, officerB: 404, dispatcher: 200, admin: 200 } }],
  'PATCH /api/v1/units/:id': [
    { probe: 'schema', method: 'PATCH', url: (i) => `/api/v1/units/${i.unitA}`, body: INVALID, expect: { ...ANY_USER, officerA: 400, officerB: 400, dispatcher: 400, admin: 400 } },
    { probe: "status of unit A (not by unit B's officers)", method: 'PATCH', url: (i) => `/api/v1/units/${i.unitA}`, body: { status: 'AVAILABLE' }, expect: { ...ANY_USER, officerA: 200, officerB: 403, dispatcher: 200, admin: 200 } },
    { probe: 'rename (admin only)', method: 'PATCH', url: (i) => `/api/v1/units/${i.unitA}`, body: { callSign: 'A-1' }, expect: { ...ANY_USER, officerA: 403, officerB: 403, dispatcher: 403, admin: 200 } },
  ],
  'DELETE /api/v1/units/:id': [{ probe: 'delete (unknown id)', method: 'DELETE', url: () => `/api/v1/units/${randomUUID()}`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'PUT /api/v1/units/:id/members': [{ probe: 'membership', method: 'PUT', url: (i) => `/api/v1/units/${i.unitA}/members`, body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'POST /api/v1/units/:id/position': [
    { probe: "unit A's position: its own officers only", method: 'POST', url: (i) => `/api/v1/units/${i.unitA}/position`, body: { latitude: 52.5, longitude: 13.4 }, expect: { ...ANY_USER, officerA: 200, officerB: 403, dispatcher: 403, admin: 403 } },
  ],
  'POST /api/v1/cameras': [{ probe: 'create camera', method: 'POST', url: () => '/api/v1/cameras', body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'GET /api/v1/cameras': [{ probe: 'camera list (no keys)', method: 'GET', url: () => '/api/v1/cameras', expect: { ...ANY_USER, officerA: 200, officerB: 200, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/cameras/:id': [{ probe: 'one camera', method: 'GET', url: (i) => `/api/v1/cameras/${i.cameraId}`, expect: { ...ANY_USER, officerA: 200, officerB: 200, dispatcher: 200, admin: 200 } }],
  'PATCH /api/v1/cameras/:id': [{ probe: 'edit / disable', method: 'PATCH', url: (i) => `/api/v1/cameras/${i.cameraId}`, body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'POST /api/v1/cameras/:id/rotate-key': [{ probe: 'rotate (unknown id)', method: 'POST', url: () => `/api/v1/cameras/${randomUUID()}/rotate-key`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'GET /api/v1/alerts/:id/evidence-package': [
    { probe: "an incident's evidence package", method: 'GET', url: (i) => `/api/v1/alerts/${i.alertA}/evidence-package`, expect: { ...ADMIN_ONLY, admin: 200 } },
  ],
  'POST /api/v1/evidence-packages': [
    { probe: "a case's evidence package", method: 'POST', url: () => '/api/v1/evidence-packages', body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } },
  ],
  'GET /api/v1/system/checks': [{ probe: 'the deployment checks', method: 'GET', url: () => '/api/v1/system/checks', expect: { ...ADMIN_ONLY, admin: 200 } }],
  'GET /api/v1/evidence-signing-key': [{ probe: 'the key that signs evidence packages', method: 'GET', url: () => '/api/v1/evidence-signing-key', expect: { ...ADMIN_ONLY, admin: 200 } }],
  'GET /api/v1/evidence-holds': [{ probe: 'evidence kept past retention', method: 'GET', url: () => '/api/v1/evidence-holds', expect: { ...ADMIN_ONLY, admin: 200 } }],
  'PUT /api/v1/alerts/:id/hold': [{ probe: 'hold an alert\'s evidence', method: 'PUT', url: (i) => `/api/v1/alerts/${i.alertA}/hold`, body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'DELETE /api/v1/alerts/:id/hold': [{ probe: 'release a hold (none here)', method: 'DELETE', url: (i) => `/api/v1/alerts/${i.alertA}/hold`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'GET /api/v1/zones': [{ probe: 'who sees which zone', method: 'GET', url: () => '/api/v1/zones', expect: { ...ADMIN_ONLY, admin: 200 } }],
  'POST /api/v1/zones/rename': [{ probe: 'rename a zone', method: 'POST', url: () => '/api/v1/zones/rename', body: INVALID, expect: { ...ADMIN_ONLY, admin: 400 } }],
  'POST /api/v1/cameras/:id/purge': [{ probe: 'purge (unknown id)', method: 'POST', url: () => `/api/v1/cameras/${randomUUID()}/purge`, expect: { ...ADMIN_ONLY, admin: 404 } }],
  'GET /api/v1/violations': [{ probe: 'history (officers filtered)', method: 'GET', url: () => '/api/v1/violations', expect: { ...ANY_USER, officerA: 200, officerB: 200, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/violations.csv': [{ probe: 'CSV export', method: 'GET', url: () => '/api/v1/violations.csv', expect: { ...COMMAND, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/stats': [{ probe: 'statistics', method: 'GET', url: () => '/api/v1/stats', expect: { ...COMMAND, dispatcher: 200, admin: 200 } }],
  'GET /api/v1/snapshots/*': [
    { probe: "face of unit A's alert", method: 'GET', url: (i) => `/api/v1/snapshots/${i.snapshotA}`, expect: { ...ANY_USER, officerA: 200, officerB: 404, dispatcher: 200, admin: 200 } },
    { probe: 'face of an unassigned alert', method: 'GET', url: (i) => `/api/v1/snapshots/${i.snapshotNew}`, expect: { ...ANY_USER, officerA: 404, officerB: 404, dispatcher: 200, admin: 200 } },
    { probe: "unit A's stored frame is never served raw (only through the alert's frame route)", method: 'GET', url: (i) => `/api/v1/snapshots/${i.cameraId}/${i.frameA}-frame.jpg`, expect: { ...ANY_USER, officerA: 404, officerB: 404, dispatcher: 404, admin: 404 } },
  ],
  'POST /api/v1/frames': [
    { probe: 'ingestion takes camera keys only', method: 'POST', url: () => '/api/v1/frames', raw: { type: 'image/jpeg', data: JPEG }, expect: { anonymous: 401, camera: 202, officerA: 401, officerB: 401, dispatcher: 401, admin: 401 } },
  ],
  'POST /api/v1/detections': [
    {
      probe: 'edge detections take camera keys only',
      method: 'POST',
      url: () => '/api/v1/detections',
      body: { capturedAt: new Date().toISOString(), width: 640, height: 480, faces: [] },
      expect: { anonymous: 401, camera: 202, officerA: 401, officerB: 401, dispatcher: 401, admin: 401 },
    },
  ],
};

/** Object-level checks that change state: run after the matrix, in this order. */
const FINAL_CASES: Case[] = [
  { probe: "acknowledge unit A's alert (unit B's officer: 404, as for no alert)", method: 'POST', url: (i) => `/api/v1/alerts/${i.alertA}/acknowledge`, body: {}, expect: { ...OFFICERS, officerA: 200, officerB: 404 } },
];

describe('access-control matrix (sqlite, real Redis, Socket.IO)', () => {
  let stack: TestStack;
  let api: ApiInstance;
  const tokens = {} as Record<Who, string | undefined>;
  let cameraKey: string;
  const ids = {} as Ids;
  const sockets: Socket[] = [];

  async function send(c: Case, who: Who, token: string | undefined) {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    let body: Buffer | undefined;
    if (c.raw) {
      headers['content-type'] = c.raw.type;
      body = c.raw.data;
    } else if (c.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = Buffer.from(JSON.stringify(c.body));
    }
    const res = await rawRequest(api.url, { method: c.method, path: c.url(ids), headers, body });
    const expected = c.expect[who];
    const ok = expected === 'ok' ? res.status < 500 && res.status !== 401 && res.status !== 403 : res.status === expected;
    return ok ? null : `${c.method} ${c.url(ids)} [${c.probe}] as ${who}: expected ${expected}, got ${res.status} ${res.body.slice(0, 160)}`;
  }

  before(async () => {
    // SCIM on, with a token none of the matrix's callers has: no session or camera key opens it.
    stack = await createTestStack('sqlite', { MASKWATCH_SCIM_TOKEN_SHA256: 'ab'.repeat(32) });
    api = await stack.startApi();
    const admin = await loginAs(api, { username: 'chief', role: 'ADMIN' });
    tokens.admin = admin.token;
    const unitA = await call(api.url, 'POST', '/api/v1/units', { token: admin.token, json: { callSign: 'A-1', latitude: 52.5, longitude: 13.4 } });
    const unitB = await call(api.url, 'POST', '/api/v1/units', { token: admin.token, json: { callSign: 'B-1' } });
    assert.equal(unitA.status, 201, JSON.stringify(unitA.body));
    ids.unitA = unitA.body.id;
    ids.unitB = unitB.body.id;
    tokens.dispatcher = (await loginAs(api, { username: 'disp', role: 'DISPATCHER' })).token;
    tokens.officerA = (await loginAs(api, { username: 'alice', role: 'OFFICER', unitCallSign: 'A-1' })).token;
    tokens.officerB = (await loginAs(api, { username: 'bob', role: 'OFFICER', unitCallSign: 'B-1' })).token;
    const cam = await call(api.url, 'POST', '/api/v1/cameras', { token: admin.token, json: { name: 'square', latitude: 52.51, longitude: 13.41 } });
    cameraKey = tokens.camera = cam.body.apiKey;
    ids.cameraId = cam.body.id;

    // One alert dispatched to unit A and one unassigned, each with a face snapshot on disk.
    const prisma = stack.db.prisma;
    const now = new Date();
    const mk = async (frame: string, unitId: string | null, status: 'DISPATCHED' | 'NEW') => {
      const rel = `snapshots/${ids.cameraId}/${frame}-0.jpg`;
      const frameRel = `snapshots/${ids.cameraId}/${frame}-frame.jpg`;
      await mkdir(path.join(stack.dataDir, 'snapshots', ids.cameraId), { recursive: true });
      await writeFile(path.join(stack.dataDir, rel), JPEG);
      await writeFile(path.join(stack.dataDir, frameRel), JPEG);
      const alert = await prisma.alert.create({
        data: {
          cameraId: ids.cameraId, status, trackId: frame, firstSeenAt: now, lastSeenAt: now, violationCount: 1, noMaskProbability: 0.1,
          snapshotPath: rel, frameSnapshotPath: frameRel, assignedUnitId: unitId, dispatchedAt: unitId ? now : null,
        },
      });
      await prisma.violation.create({
        data: {
          cameraId: ids.cameraId, frameId: frame, faceIndex: 0, capturedAt: now, receivedAt: now, boxX: 1, boxY: 1, boxW: 20, boxH: 20,
          faceScore: 0.9, noMaskProbability: 0.1, faceSnapshotPath: rel, frameSnapshotPath: frameRel, alertId: alert.id,
        },
      });
      return { alertId: alert.id, snapshot: rel.slice('snapshots/'.length), frame };
    };
    const a = await mk(randomUUID(), ids.unitA, 'DISPATCHED');
    const n = await mk(randomUUID(), null, 'NEW');
    ids.alertA = a.alertId;
    ids.snapshotA = a.snapshot;
    ids.alertNew = n.alertId;
    ids.snapshotNew = n.snapshot;
    ids.frameA = a.frame;
    ids.frameNew = n.frame;
  });

  after(async () => {
    for (const s of sockets) s.disconnect();
    await stack?.close();
  });

  test('every route of the app has a matrix entry, and every entry is a route', () => {
    const routes = routesFromTree(api.app.printRoutes());
    assert.ok(routes.length >= 40, `found only ${routes.length} routes:\n${routes.join('\n')}`);
    const missing = routes.filter((r) => !MATRIX[r]);
    const stale = Object.keys(MATRIX).filter((r) => !routes.includes(r));
    assert.deepEqual(missing, [], `routes without an access-control entry (add them to MATRIX):\n${missing.join('\n')}`);
    assert.deepEqual(stale, [], `matrix entries for routes that no longer exist:\n${stale.join('\n')}`);
  });

  test('HTTP: every route × role gets the expected status', async () => {
    const failures: string[] = [];
    for (const [route, cases] of Object.entries(MATRIX)) {
      for (const c of cases) {
        for (const who of ROLES) {
          let token = tokens[who];
          if ((route === 'POST /api/v1/auth/logout' || route === 'POST /api/v1/auth/refresh') && who !== 'anonymous' && who !== 'camera') {
            // A throwaway session of the same user, so the matrix's own tokens stay valid.
            const username = { officerA: 'alice', officerB: 'bob', dispatcher: 'disp', admin: 'chief' }[who];
            const login = await call(api.url, 'POST', '/api/v1/auth/login', { json: { username, password: 'correct horse battery staple' } });
            token = login.body.token;
          }
          const failure = await send(c, who, token);
          if (failure) failures.push(failure);
        }
      }
    }
    assert.deepEqual(failures, [], `\n${failures.join('\n')}`);
  });

  test('officers see only their own unit in lists', async () => {
    const alertsA = await call(api.url, 'GET', '/api/v1/alerts', { token: tokens.officerA });
    const alertsB = await call(api.url, 'GET', '/api/v1/alerts', { token: tokens.officerB });
    const all = await call(api.url, 'GET', '/api/v1/alerts', { token: tokens.dispatcher });
    assert.deepEqual(alertsA.body.items.map((a: { id: string }) => a.id), [ids.alertA]);
    assert.deepEqual(alertsB.body.items, []);
    assert.equal(all.body.items.length, 2);
    const violationsB = await call(api.url, 'GET', '/api/v1/violations', { token: tokens.officerB });
    assert.deepEqual(violationsB.body.items, []);
    const violationsA = await call(api.url, 'GET', '/api/v1/violations', { token: tokens.officerA });
    assert.equal(violationsA.body.items.length, 1);
    // Camera listings never carry keys or their hashes.
    const cams = await call(api.url, 'GET', '/api/v1/cameras', { token: tokens.admin });
    assert.doesNotMatch(JSON.stringify(cams.body), /apiKeyHash|mwc_/);
  });

  test('every snapshot view is audited with who saw what', async () => {
    const before = await stack.db.prisma.auditEvent.count({ where: { action: 'snapshot.view', subjectId: ids.snapshotA } });
    const res = await call(api.url, 'GET', `/api/v1/snapshots/${ids.snapshotA}`, { token: tokens.officerA });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    const events = await stack.db.prisma.auditEvent.findMany({ where: { action: 'snapshot.view', subjectId: ids.snapshotA }, orderBy: { at: 'desc' } });
    assert.equal(events.length, before + 1);
    assert.equal(events[0]!.actorRole, 'OFFICER');
    // A refused view (unit B) leaves no "view" record: nothing was shown.
    const denied = await call(api.url, 'GET', `/api/v1/snapshots/${ids.snapshotA}`, { token: tokens.officerB });
    assert.equal(denied.status, 404);
    assert.equal(await stack.db.prisma.auditEvent.count({ where: { action: 'snapshot.view', subjectId: ids.snapshotA } }), before + 1);
  });

  test('Socket.IO: anonymous and camera keys are refused; each role receives only its rooms', async () => {
    const open = (token: string | undefined) =>
      withTimeout(new Promise<Socket<ServerToClientEvents>>((resolve, reject) => {
        const s: Socket<ServerToClientEvents> = connect(api.url, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s);
        s.once('connect', () => resolve(s));
        s.once('connect_error', (err) => reject(err));
      }), 'the socket to connect or be refused');
    await assert.rejects(open(undefined), /unauthorized/);
    await assert.rejects(open(cameraKey), /unauthorized/);
    await assert.rejects(open('mwt_not-a-real-token-at-all'), /unauthorized/);

    const users = ['officerA', 'officerB', 'dispatcher', 'admin'] as const;
    const received: Record<string, string[]> = {};
    const done: Promise<void>[] = [];
    for (const who of users) {
      const s = await open(tokens[who]);
      received[who] = [];
      // A client cannot pick its rooms: there is no client → server event; these go nowhere.
      (s as unknown as Socket).emit('join', unitRoom(ids.unitB));
      (s as unknown as Socket).emit('subscribe', DISPATCH_ROOM);
      done.push(
        new Promise((resolve) => {
          const onEvent = (a: AlertEvent) => {
            if (a.id === 'marker') resolve();
            else received[who]!.push(a.id);
          };
          s.on('alert.created', onEvent);
          s.on('alert.updated', onEvent);
        }),
      );
    }
    // One Redis connection publishes all events, so they arrive in this order; the marker
    // goes to every room, so once each socket has it, it has had everything meant for it.
    const redis = new Redis(stack.config.redisUrl);
    try {
      const publisher = createAlertPublisher({ redis, queuePrefix: stack.config.queuePrefix, logger: stack.logger });
      const event = (id: string, assignedUnitId: string | null): AlertEvent => ({
        id, status: 'NEW', cameraId: ids.cameraId, camera: { name: 'square', latitude: 1, longitude: 1, address: null, zone: null },
        createdAt: new Date().toISOString(), lastSeenAt: new Date().toISOString(), violationCount: 1, noMaskProbability: 0.1, maskProbability: 0.1,
        snapshotUrl: null, frameSnapshotUrl: null, assignedUnitId, escalationLevel: 0, people: [], resolutionOutcome: null, noteCount: 0,
      });
      await publisher.publish('alert.created', event('for-A', ids.unitA));
      await publisher.publish('alert.created', event('for-B', ids.unitB));
      await publisher.publish('alert.created', event('unassigned', null));
      const emitter = new Emitter<ServerToClientEvents>(redis, { key: socketIoRedisKey(stack.config.queuePrefix) });
      emitter.to([DISPATCH_ROOM, unitRoom(ids.unitA), unitRoom(ids.unitB)]).emit('alert.updated', event('marker', null));
      await withTimeout(Promise.all(done), 'the marker event on every socket');
    } finally {
      redis.disconnect();
    }
    assert.deepEqual(received, {
      officerA: ['for-A'],
      officerB: ['for-B'],
      dispatcher: ['for-A', 'for-B', 'unassigned'],
      admin: ['for-A', 'for-B', 'unassigned'],
    });
  });

  test('a disabled camera and a rotated key are refused at once', async () => {
    const post = (key: string) =>
      rawRequest(api.url, { method: 'POST', path: '/api/v1/frames', headers: { authorization: `Bearer ${key}`, 'content-type': 'image/jpeg' }, body: JPEG });
    assert.equal((await post(cameraKey)).status, 202);
    assert.equal((await call(api.url, 'PATCH', `/api/v1/cameras/${ids.cameraId}`, { token: tokens.admin, json: { enabled: false } })).status, 200);
    assert.equal((await post(cameraKey)).status, 401);
    assert.equal((await call(api.url, 'PATCH', `/api/v1/cameras/${ids.cameraId}`, { token: tokens.admin, json: { enabled: true } })).status, 200);
    assert.equal((await post(cameraKey)).status, 202);
    const rotated = await call(api.url, 'POST', `/api/v1/cameras/${ids.cameraId}/rotate-key`, { token: tokens.admin });
    assert.equal(rotated.status, 200);
    assert.equal((await post(cameraKey)).status, 401, 'old key still accepted after rotation');
    assert.equal((await post(rotated.body.apiKey)).status, 202);
    // A second API instance (its own cache) refuses the old key too.
    const other = await stack.startApi();
    const res = await rawRequest(other.url, { method: 'POST', path: '/api/v1/frames', headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'image/jpeg' }, body: JPEG });
    assert.equal(res.status, 401);
  });

  test("object level: only unit A's officer can acknowledge unit A's alert", async () => {
    const failures: string[] = [];
    for (const c of FINAL_CASES) {
      // Least privileged first, so the one allowed request (which changes the alert) comes after the refusals.
      for (const who of ['anonymous', 'camera', 'officerB', 'dispatcher', 'admin', 'officerA'] as const) {
        const failure = await send(c, who, tokens[who]);
        if (failure) failures.push(failure);
      }
    }
    assert.deepEqual(failures, [], `\n${failures.join('\n')}`);
  });
});
