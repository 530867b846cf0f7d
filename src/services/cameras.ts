/**
 * Camera use cases: register (the API key is shown once), edit, enable/disable
 * and rotate the key. Every change that affects ingestion goes through the
 * Redis key cache first (the CameraGate), so no API instance admits a frame of
 * a disabled camera or a revoked key once the call returns. Audited.
 */
import { alertScopeOf, zoneInScope, type Viewer } from '../auth/roles.ts';
import { hashSecret, newCameraApiKey, secretHint } from '../auth/tokens.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { Camera, CameraInput, CameraPatch, CameraWithKey } from '../contracts/api.ts';
import type { CameraRepository, CameraRow } from '../db/repositories/cameras.ts';
import type { AlertRepository } from '../db/repositories/alerts.ts';
import { toAlertEvent } from './alert-view.ts';
import type { Announcer } from './announcer.ts';
import { confirmationProblem } from '../domain/people.ts';
import { notFound, ServiceError } from './errors.ts';

/** The ingestion key cache (src/api/ingest/camera-gate.ts), as far as admin changes need it. */
export interface CameraKeyCache {
  prime(apiKeyHash: string, cameraId: string): Promise<void>;
  setEnabled(apiKeyHash: string, cameraId: string, enabled: boolean): Promise<void>;
  revoke(apiKeyHash: string): Promise<void>;
  forget(apiKeyHash: string): Promise<void>;
}

export interface Admin {
  id: string;
  role: string;
}

/** k ≤ n across the two fields (JSON schema cannot compare them). */
function checkConfirmation(k: number | null | undefined, n: number | null | undefined): void {
  const problem = confirmationProblem({ confirmFrames: k ?? undefined, confirmWindow: n ?? undefined });
  if (problem) throw new ServiceError('INVALID', problem, 'validation');
}

export function cameraView(c: CameraRow): Camera {
  return {
    id: c.id,
    name: c.name,
    address: c.address,
    latitude: c.latitude,
    longitude: c.longitude,
    zone: c.zone,
    enabled: c.enabled,
    apiKeyHint: c.apiKeyHint,
    lastFrameAt: c.lastFrameAt ? c.lastFrameAt.toISOString() : null,
    confirmFrames: c.confirmFrames,
    confirmWindow: c.confirmWindow,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const REDIS_DOWN = 'cannot reach Redis to apply the change everywhere; nothing was changed, retry later';

/** Runs a write to the ingestion key cache; if Redis is unreachable the admin change is refused. */
async function propagate(write: () => Promise<void>, detail = REDIS_DOWN): Promise<void> {
  try {
    await write();
  } catch {
    throw new ServiceError('UNAVAILABLE', detail, 'redis-unavailable', 5);
  }
}

/** What an open alert shows of its camera. */
const SHOWN_FIELDS = ['name', 'address', 'zone', 'latitude', 'longitude'] as const;

export function createCameraService(deps: {
  cameras: CameraRepository;
  audit: AuditRepository;
  gate: CameraKeyCache;
  /** With both, an edit of what alerts show of a camera is announced on its open alerts. */
  alerts?: Pick<AlertRepository, 'openOfCamera'>;
  announcer?: Announcer;
}) {
  const audit = (actor: Admin, action: string, subjectId: string, details: Record<string, unknown>) =>
    deps.audit.record({ actorType: 'USER', actorId: actor.id, actorRole: actor.role, action, subjectType: 'Camera', subjectId, details });

  return {
    async create(input: CameraInput, actor: Admin): Promise<CameraWithKey> {
      checkConfirmation(input.confirmFrames, input.confirmWindow);
      const apiKey = newCameraApiKey();
      const camera = await deps.cameras.create({
        confirmFrames: input.confirmFrames ?? null,
        confirmWindow: input.confirmWindow ?? null,
        name: input.name,
        latitude: input.latitude,
        longitude: input.longitude,
        address: input.address ?? null,
        zone: input.zone ?? null,
        apiKeyHash: hashSecret(apiKey),
        apiKeyHint: secretHint(apiKey),
      });
      await audit(actor, 'camera.create', camera.id, { name: camera.name, zone: camera.zone });
      await deps.gate.prime(camera.apiKeyHash, camera.id).catch(() => undefined); // best effort: a miss reads the database
      return { ...cameraView(camera), apiKey };
    },

    /** Every camera; a dispatcher with zones gets their zones' cameras (the others' alerts are not theirs). */
    async list(viewer: Viewer): Promise<Camera[]> {
      const scope = alertScopeOf(viewer);
      return (await deps.cameras.list()).filter((c) => zoneInScope(scope, c.zone)).map(cameraView);
    },

    /** One camera; to a dispatcher with zones, a camera outside them does not exist (as in the list). */
    async get(id: string, viewer: Viewer): Promise<Camera> {
      const camera = await deps.cameras.findById(id);
      if (!camera || !zoneInScope(alertScopeOf(viewer), camera.zone)) throw notFound(`camera ${id}`);
      return cameraView(camera);
    },

    async update(id: string, patch: CameraPatch, actor: Admin): Promise<Camera> {
      const before = await deps.cameras.findById(id);
      if (!before) throw notFound(`camera ${id}`);
      checkConfirmation(
        'confirmFrames' in patch ? patch.confirmFrames : before.confirmFrames,
        'confirmWindow' in patch ? patch.confirmWindow : before.confirmWindow,
      );
      const disabling = patch.enabled === false;
      const enabling = patch.enabled === true;
      // Disabling: Redis first, so no instance admits another frame once we answer.
      if (disabling) await propagate(() => deps.gate.setEnabled(before.apiKeyHash, before.id, false));
      let camera: CameraRow | null;
      try {
        camera = await deps.cameras.update(before.id, patch);
      } catch (err) {
        if (disabling) await deps.gate.forget(before.apiKeyHash).catch(() => undefined);
        throw err;
      }
      if (!camera) throw notFound(`camera ${id}`);
      if (enabling) {
        await propagate(() => deps.gate.forget(before.apiKeyHash), 'saved, but Redis is unreachable so ingestion still refuses this camera; retry');
      }
      const action = disabling ? 'camera.disable' : enabling ? 'camera.enable' : 'camera.update';
      await audit(actor, action, camera.id, { changes: patch });
      // Officers on the way navigate by the address their card shows: open alerts hear of the edit now, not at a reload.
      if (deps.alerts && deps.announcer && SHOWN_FIELDS.some((f) => patch[f] !== undefined && patch[f] !== before[f])) {
        for (const alert of await deps.alerts.openOfCamera(camera.id)) await deps.announcer.announce({ kind: 'camera', alert: toAlertEvent(alert), previousZone: before.zone });
      }
      return cameraView(camera);
    },

    async rotateKey(id: string, actor: Admin): Promise<CameraWithKey> {
      const before = await deps.cameras.findById(id);
      if (!before) throw notFound(`camera ${id}`);
      // Revoke in Redis first: once we answer, no instance accepts the old key.
      await propagate(() => deps.gate.revoke(before.apiKeyHash));
      const apiKey = newCameraApiKey();
      let camera: CameraRow | null;
      try {
        camera = await deps.cameras.replaceKey(before.id, hashSecret(apiKey), secretHint(apiKey));
      } catch (err) {
        await deps.gate.forget(before.apiKeyHash).catch(() => undefined); // the old key stays valid after all
        throw err;
      }
      if (!camera) throw notFound(`camera ${id}`);
      await audit(actor, 'camera.rotate_key', camera.id, { apiKeyHint: camera.apiKeyHint });
      if (camera.enabled) await deps.gate.prime(camera.apiKeyHash, camera.id).catch(() => undefined);
      return { ...cameraView(camera), apiKey };
    },
  };
}

export type CameraService = ReturnType<typeof createCameraService>;
