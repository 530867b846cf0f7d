/**
 * Evidence per alert: an alert's view of one of its frames. The worker stores a
 * violating frame once (faces that are not violations blurred, no overlay); this
 * use case renders it for ONE alert on request: only that alert's people stay
 * sharp, every other face recorded in the frame is blurred (bystanders, other
 * alerts' people, unconfirmed violators, and this alert's people marked false
 * positive — a false positive is a bystander), and the boxes are drawn.
 *
 * Nothing rendered is kept: each view is rendered from the stored frame, so a
 * false-positive mark or a new person changes what the next view shows, and
 * retention deleting the stored frame leaves no copy behind.
 *
 * Officers see only alerts assigned to their unit, dispatchers with zones only
 * their zones' alerts. Every refusal — no such alert, another unit's or zone's alert, a frame the alert does not show, a frame
 * retention deleted — is the same NOT_FOUND with the same message, so a refusal
 * tells nothing about what exists. Each view is audited with the client IP.
 */
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { AlertFrameRecord, EvidenceRepository, FrameFaceRow } from '../db/repositories/evidence.ts';
import { readDataFile } from '../privacy/data-files.ts';
import type { Box } from '../domain/tracker.ts';
import { maySeeAlert, type Viewer } from '../auth/roles.ts';
import { storedFramePath } from './alert-view.ts';
import { ServiceError } from './errors.ts';

export interface EvidenceViewer extends Viewer {
  id: string;
}

/** Which faces of the stored frame stay sharp (this alert's people) and which are blurred. */
export interface AlertFramePlan {
  people: Box[];
  others: Box[];
}

/** Pure pixel work (src/vision/render.ts renderAlertFrame), passed in so the use case stays testable. */
export type RenderAlertFrame = (stored: Buffer, plan: AlertFramePlan) => Promise<Buffer>;

export interface EvidenceServiceDeps {
  evidence: EvidenceRepository;
  audit: AuditRepository;
  dataDir: string;
  render: RenderAlertFrame;
}

/** The one refusal of this use case, whatever the reason (see above). */
const noSuchFrame = () => new ServiceError('NOT_FOUND', 'no such frame', 'not-found');

const boxOf = (r: FrameFaceRow): Box => [r.boxX, r.boxY, r.boxW, r.boxH];

/**
 * The faces of a frame split for one alert (pure): sharp = the frame's violations of this alert's
 * people not marked false positive; blurred = every other face recorded in the frame. Null when
 * the frame is not evidence of this alert (no link of the alert points at it) or when none of its
 * faces is recorded (their boxes are unknown, so nothing could be blurred: shown to nobody).
 */
export function planAlertFrame(rec: AlertFrameRecord, framePath: string): AlertFramePlan | null {
  const { alert } = rec;
  const linked =
    alert.frameSnapshotPath === framePath ||
    alert.people.some((p) => p.lastFrameSnapshotPath === framePath) ||
    rec.violations.some((v) => v.alertId === alert.id && v.frameSnapshotPath === framePath);
  if (!linked) return null;
  const falsePositive = new Set(alert.people.filter((p) => p.falsePositive).map((p) => p.id));
  const sharp = new Set(
    rec.violations.filter((v) => v.alertId === alert.id && !(v.personId && falsePositive.has(v.personId))).map((v) => v.faceIndex),
  );
  const faces = new Map<number, Box>();
  for (const r of [...rec.sightings, ...rec.violations]) faces.set(r.faceIndex, boxOf(r));
  if (faces.size === 0) return null;
  const plan: AlertFramePlan = { people: [], others: [] };
  for (const [faceIndex, box] of [...faces.entries()].sort((a, b) => a[0] - b[0])) {
    (sharp.has(faceIndex) ? plan.people : plan.others).push(box);
  }
  return plan;
}

export function createEvidenceService(deps: EvidenceServiceDeps) {
  /** The frame rendered for the alert of `rec`, with its plan; null when the alert does not show it or the file is gone. */
  async function render(rec: AlertFrameRecord, frameId: string): Promise<{ jpeg: Buffer; plan: AlertFramePlan } | null> {
    const framePath = storedFramePath(rec.alert.cameraId, frameId);
    const plan = planAlertFrame(rec, framePath);
    if (!plan) return null;
    const stored = await readDataFile(deps.dataDir, framePath);
    return stored ? { jpeg: await deps.render(stored, plan), plan } : null;
  }

  return {
    /** The alert's view of one of its frames as a JPEG; audited as `snapshot.view` (subject `AlertFrame`). */
    async alertFrame(alertId: string, frameId: string, viewer: EvidenceViewer, clientIp: string): Promise<Buffer> {
      const rec = await deps.evidence.alertFrame(alertId, frameId);
      if (!rec) throw noSuchFrame();
      if (!maySeeAlert(viewer, { assignedUnitId: rec.alert.assignedUnitId, zone: rec.alert.camera.zone })) throw noSuchFrame();
      const rendered = await render(rec, frameId);
      if (!rendered) throw noSuchFrame();
      await deps.audit.record({
        actorType: 'USER',
        actorId: viewer.id,
        actorRole: viewer.role,
        action: 'snapshot.view',
        subjectType: 'AlertFrame',
        subjectId: `${alertId}/${frameId}`,
        details: { clientIp, alertId, frameId, people: rendered.plan.people.length, blurred: rendered.plan.others.length },
      });
      return rendered.jpeg;
    },

    /**
     * The same view, neither access-checked nor audited: for a use case that checks and audits the whole of
     * what it gives (the evidence package, services/evidence-package.ts). Null where alertFrame refuses.
     */
    async renderedFrame(alertId: string, frameId: string): Promise<Buffer | null> {
      const rec = await deps.evidence.alertFrame(alertId, frameId);
      return rec ? ((await render(rec, frameId))?.jpeg ?? null) : null;
    },
  };
}

export type EvidenceService = ReturnType<typeof createEvidenceService>;
