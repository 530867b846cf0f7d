/**
 * Incident persistence: track sightings (the tracker's and confirmation's
 * state), the people of an alert, and their violations. One frame is stored in
 * one transaction, so a frame is either fully recorded or not at all, and a
 * retried job can tell which (frameRecorded).
 */
import { randomUUID } from 'node:crypto';
import type { AlertPerson, Prisma, PrismaClient, TrackSighting } from '../generated/sqlite/client.ts';
import type { IncidentPlan, IncidentView, KnownPerson, StoredSighting } from '../../domain/incidents.ts';
import { isOpen, ALERT_STATUSES, type AlertStatus } from '../../domain/lifecycle.ts';
import { accusedPeople, type ClassProbabilities, type ConfirmationSettings } from '../../domain/people.ts';
import type { Box } from '../../domain/tracker.ts';
import { withCamera, type AlertRecord } from './alerts.ts';

type Db = PrismaClient | Prisma.TransactionClient;

/** Most sightings a frame decision reads; more in one window means a very crowded camera. */
export const MAX_TRACK_SIGHTINGS = 3000;

const OPEN_STATUSES = ALERT_STATUSES.filter((s) => isOpen(s));

export interface FaceRecord {
  faceIndex: number;
  box: Box;
  faceScore: number;
  probabilities: ClassProbabilities;
  /** False when the vision engine vetoed the face as a violation. */
  violationAllowed: boolean;
  /** domain/people.ts shotQuality; 0 for a non-violating face. */
  shotQuality: number;
  /** Relative to the data dir; null for a non-violating face (no crop is kept). */
  faceSnapshotPath: string | null;
}

export interface RecordIncidentFrameInput {
  cameraId: string;
  frameId: string;
  capturedAt: Date;
  receivedAt: Date;
  frameSnapshotPath: string | null;
  faces: readonly FaceRecord[];
  /** The incident window (the alert cooldown), ms. */
  windowMs: number;
  /**
   * The frame decision (domain/incidents.ts planIncidentFrame) given the camera's
   * confirmation settings and state; called inside the transaction, under the lock.
   */
  decide(state: FrameState, camera: Partial<ConfirmationSettings>): IncidentPlan;
}

export interface FrameState {
  history: StoredSighting[];
  people: KnownPerson[];
  incidents: IncidentView[];
}

export interface RecordIncidentFrameResult {
  /**
   * True when an earlier attempt had already stored this frame (nothing was written now): the alerts it
   * created are not in createdAlertIds and must be looked up (alerts repository createdByFrame).
   */
  alreadyRecorded: boolean;
  sightings: number;
  violations: number;
  createdAlertIds: string[];
  /** Existing alerts whose people changed, excluding created ones. */
  updatedAlertIds: string[];
}

/** The camera was deleted while its frame was being processed. */
export class CameraGoneError extends Error {
  constructor(readonly cameraId: string) {
    super(`camera ${cameraId} does not exist`);
    this.name = 'CameraGoneError';
  }
}

const NOTHING: RecordIncidentFrameResult = { alreadyRecorded: false, sightings: 0, violations: 0, createdAlertIds: [], updatedAlertIds: [] };
const ALREADY_RECORDED: RecordIncidentFrameResult = { ...NOTHING, alreadyRecorded: true };

export class IncidentRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncidentRecordError';
  }
}

/** What a frame's transaction reads of an alert: the incident view and what refreshAlert keeps. */
const ALERT_SUMMARY = { id: true, status: true, firstSeenAt: true, lastSeenAt: true, frameSnapshotPath: true } as const;
type AlertSummaryRow = { id: string; status: string; firstSeenAt: Date; lastSeenAt: Date; frameSnapshotPath: string | null };

const boxOf = (r: { boxX: number; boxY: number; boxW: number; boxH: number }): Box => [r.boxX, r.boxY, r.boxW, r.boxH];

const toStoredSighting = (r: TrackSighting): StoredSighting => ({
  trackKey: r.trackKey,
  box: boxOf(r),
  at: r.capturedAt.getTime(),
  probabilities: { mask: r.maskProbability, no_mask: r.noMaskProbability, mask_incorrect: r.maskIncorrectProbability },
  violating: r.violating,
});

export function createIncidentRepository(prisma: PrismaClient) {
  /**
   * The camera's sightings captured within `windowMs` of `at`, newest first, and whether `frameId` is already
   * stored: its sightings were stored with capturedAt = `at`, inside the window read. Only when the window holds
   * more than MAX_TRACK_SIGHTINGS rows (so the read may have missed them) does that cost a query of its own.
   */
  async function sightingRows(cameraId: string, at: Date, windowMs: number, frameId: string | null, db: Db) {
    const rows = await db.trackSighting.findMany({
      where: { cameraId, capturedAt: { gte: new Date(at.getTime() - windowMs), lte: new Date(at.getTime() + windowMs) } },
      orderBy: [{ capturedAt: 'desc' }, { id: 'asc' }],
      take: MAX_TRACK_SIGHTINGS,
    });
    const recorded =
      frameId !== null && (rows.some((r) => r.frameId === frameId) || (rows.length >= MAX_TRACK_SIGHTINGS && (await repo.frameRecorded(frameId, db))));
    return { rows, recorded };
  }

  const repo = {
    /** True when an earlier attempt stored this frame (every analysed face lands in one transaction). */
    async frameRecorded(frameId: string, db: Db = prisma): Promise<boolean> {
      return (await db.trackSighting.count({ where: { frameId } })) > 0;
    },

    /**
     * The camera's sightings within the window (domain/incidents.ts planSightings' history), read without a
     * transaction or lock; null when `frameId` is already stored (a retried job).
     */
    async recentSightings(cameraId: string, at: Date, windowMs: number, frameId: string): Promise<StoredSighting[] | null> {
      const { rows, recorded } = await sightingRows(cameraId, at, windowMs, frameId, prisma);
      return recorded ? null : rows.map(toStoredSighting);
    },

    /**
     * The state a frame decision needs (domain/incidents.ts IncidentPlanInput), and whether `frameId` is
     * already stored, from the same read (sightingRows).
     */
    async frameStateOf(
      cameraId: string,
      at: Date,
      windowMs: number,
      frameId: string | null,
      db: Db = prisma,
    ): Promise<{ state: FrameState; recorded: boolean; personRows: Map<string, AlertPerson>; alertRows: Map<string, AlertSummaryRow> }> {
      const { rows, recorded } = await sightingRows(cameraId, at, windowMs, frameId, db);
      if (recorded) return { state: { history: [], people: [], incidents: [] }, recorded, personRows: new Map(), alertRows: new Map() };
      const history = rows.map(toStoredSighting);
      const keys = [...new Set(rows.map((r) => r.trackKey))];
      const peopleRows = keys.length ? await db.alertPerson.findMany({ where: { cameraId, trackKey: { in: keys } } }) : [];
      // The camera's open alerts in the window and the alerts of those people, in one query.
      const from = new Date(at.getTime() - windowMs);
      const to = new Date(at.getTime() + windowMs);
      const openInWindow = { status: { in: OPEN_STATUSES }, lastSeenAt: { gte: from }, firstSeenAt: { lte: to } };
      const ofPeople = peopleRows.length ? [{ id: { in: [...new Set(peopleRows.map((p) => p.alertId))] } }] : [];
      const alerts = await db.alert.findMany({ where: { cameraId, OR: [openInWindow, ...ofPeople] }, select: ALERT_SUMMARY });
      const alertRows = new Map(alerts.map((a) => [a.id, a]));
      const inWindow = (a: AlertSummaryRow) => isOpen(a.status as AlertStatus) && a.lastSeenAt >= from && a.firstSeenAt <= to;
      const people: KnownPerson[] = peopleRows.map((p) => {
        const alert = alertRows.get(p.alertId);
        if (!alert) throw new IncidentRecordError(`person ${p.id} has no alert ${p.alertId}`);
        return { id: p.id, alertId: p.alertId, trackKey: p.trackKey, alertStatus: alert.status as AlertStatus };
      });
      const incidents: IncidentView[] = [...alertRows.values()].filter(inWindow).map((a) => ({
        id: a.id,
        status: a.status as AlertStatus,
        firstSeenAt: a.firstSeenAt.getTime(),
        lastSeenAt: a.lastSeenAt.getTime(),
      }));
      // Whole rows: the frame's transaction updates these people and alerts without reading them again.
      return { state: { history, people, incidents }, recorded: false, personRows: new Map(peopleRows.map((p) => [p.id, p])), alertRows };
    },

    /**
     * Records a frame in one transaction that holds the camera's lock from its
     * first statement (bumping Camera.groupingVersion takes the row lock on
     * PostgreSQL and the write lock on SQLite until commit, so two workers with
     * frames of one camera record one after the other however slow the database
     * is, with no lease that can expire mid-transaction; the same statement
     * returns the camera's confirmation settings): read the tracks, people and open incidents, decide (input.decide), then store the
     * frame's sightings and apply the plan: open the frame's incident, create or
     * update people, store a violation row for every violating frame of a
     * confirmed person (including the frames before it was confirmed), and
     * recompute each touched alert from its people. A frame already recorded (a
     * retried job) is not planned again (alreadyRecorded).
     */
    recordFrame(input: RecordIncidentFrameInput): Promise<RecordIncidentFrameResult> {
      const faceOf = new Map(input.faces.map((f) => [f.faceIndex, f]));
      const at = input.capturedAt;
      const windowMs = input.windowMs;
      return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        // The lock and the camera's confirmation settings in one statement (a frame costs as few round trips as it can).
        const c = await tx.camera
          .update({ where: { id: input.cameraId }, data: { groupingVersion: { increment: 1 } }, select: { confirmFrames: true, confirmWindow: true } })
          .catch((err: unknown) => {
            throw (err as { code?: string }).code === 'P2025' ? new CameraGoneError(input.cameraId) : err; // no such record
          });
        const camera: Partial<ConfirmationSettings> = { confirmFrames: c.confirmFrames ?? undefined, confirmWindow: c.confirmWindow ?? undefined };
        const { state, recorded, personRows, alertRows } = await repo.frameStateOf(input.cameraId, at, windowMs, input.frameId, tx);
        if (recorded) return ALREADY_RECORDED;
        const plan = input.decide(state, camera);
        if (plan.sightings.length === 0) return NOTHING;
        const sightingOf = new Map(plan.sightings.map((s) => [s.trackKey, s]));
        for (const s of plan.sightings) {
          if (!faceOf.has(s.faceIndex)) throw new IncidentRecordError(`plan refers to unknown face ${s.faceIndex}`);
        }
        // All of the frame's sightings in one statement.
        await tx.trackSighting.createMany({
          data: plan.sightings.map((s) => {
            const f = faceOf.get(s.faceIndex)!;
            return {
              cameraId: input.cameraId,
              frameId: input.frameId,
              faceIndex: f.faceIndex,
              trackKey: s.trackKey,
              capturedAt: at,
              receivedAt: input.receivedAt,
              boxX: Math.round(f.box[0]),
              boxY: Math.round(f.box[1]),
              boxW: Math.round(f.box[2]),
              boxH: Math.round(f.box[3]),
              faceScore: f.faceScore,
              maskProbability: f.probabilities.mask,
              noMaskProbability: f.probabilities.no_mask,
              maskIncorrectProbability: f.probabilities.mask_incorrect,
              violating: s.violating,
              shotQuality: s.violating ? f.shotQuality : 0,
              faceSnapshotPath: s.violating ? f.faceSnapshotPath : null,
              frameSnapshotPath: input.frameSnapshotPath,
            };
          }),
        });

        const created: string[] = [];
        let incidentAlertId: string | null = null;
        if (plan.incidentKey) {
          const key = { cameraId_trackId: { cameraId: input.cameraId, trackId: plan.incidentKey } };
          const existing = await tx.alert.findUnique({ where: key, select: { id: true } });
          if (existing) incidentAlertId = existing.id;
          else {
            const alert = await tx.alert.create({
              data: {
                cameraId: input.cameraId,
                trackId: plan.incidentKey,
                firstSeenAt: at,
                lastSeenAt: at,
                noMaskProbability: 0,
                frameSnapshotPath: input.frameSnapshotPath,
              },
              select: { id: true },
            });
            incidentAlertId = alert.id;
            created.push(alert.id);
          }
        }

        // The frame's people: reads and inserts are one statement each for all of them (a crowd frame
        // confirms or continues many people at once); only updates of known people go one by one.
        const window = { gte: new Date(at.getTime() - windowMs), lte: new Date(at.getTime() + windowMs) };
        const active = plan.people.flatMap((p) => {
          if (p.kind === 'pending') return [];
          const alertId = p.kind === 'open' ? incidentAlertId : p.alertId;
          if (!alertId) throw new IncidentRecordError(`no alert for track ${p.trackKey}`);
          const sighting = sightingOf.get(p.trackKey)!;
          // personRows holds every person of the camera whose track has a sighting in the window, so it also
          // answers whether a newly confirmed track already belongs to the alert it joins.
          const existing: AlertPerson | null =
            p.kind === 'update'
              ? (personRows.get(p.personId) ?? null)
              : ([...personRows.values()].find((r) => r.alertId === alertId && r.trackKey === p.trackKey) ?? null);
          if (!existing && p.kind === 'update') throw new IncidentRecordError(`person ${p.personId} vanished`);
          // Every violating sighting of the track within the window becomes a violation of this person
          // (a new person brings the frames that confirmed it); already stored ones are skipped. A known
          // person's earlier violating sightings all became violations when they were recorded, so a
          // non-violating sighting of it (a masked frame) adds none and changes neither best shot nor first sighting.
          const addsViolations = p.kind !== 'update' || sighting.violating;
          return [{ plan: p, alertId, face: faceOf.get(sighting.faceIndex)!, existing, addsViolations }];
        });
        const trackKeys = active.filter((a) => a.addsViolations).map((a) => a.plan.trackKey);
        const trackRows = trackKeys.length
          ? await tx.trackSighting.findMany({
              where: { cameraId: input.cameraId, trackKey: { in: trackKeys }, violating: true, capturedAt: window },
              orderBy: [{ capturedAt: 'asc' }, { id: 'asc' }],
            })
          : [];
        const storedRows = trackRows.length
          ? await tx.violation.findMany({ where: { frameId: { in: [...new Set(trackRows.map((r) => r.frameId))] } }, select: { frameId: true, faceIndex: true } })
          : [];
        const stored = new Set(storedRows.map((v) => `${v.frameId}:${v.faceIndex}`));

        const touched = new Set<string>();
        const addedViolations = new Map<string, number>();
        const newViolations: Prisma.ViolationCreateManyInput[] = [];
        const personCreates: Prisma.AlertPersonCreateManyInput[] = [];
        for (const { plan: p, alertId, face, existing, addsViolations } of active) {
          // A new person is created with its final fields (its id chosen here, as Prisma's uuid() default would), so its violations can name it.
          const personId = existing?.id ?? randomUUID();
          let best = { path: existing?.bestShotPath ?? null, quality: existing?.bestShotQuality ?? 0 };
          let firstSeenAt = existing?.firstSeenAt ?? at;
          let added = 0;
          for (const r of addsViolations ? trackRows : []) {
            if (r.trackKey !== p.trackKey) continue;
            if (r.capturedAt < firstSeenAt) firstSeenAt = r.capturedAt;
            if (r.faceSnapshotPath && r.shotQuality > best.quality) best = { path: r.faceSnapshotPath, quality: r.shotQuality };
            if (stored.has(`${r.frameId}:${r.faceIndex}`)) continue;
            added++;
            newViolations.push({
              cameraId: input.cameraId,
              frameId: r.frameId,
              faceIndex: r.faceIndex,
              capturedAt: r.capturedAt,
              receivedAt: r.receivedAt,
              boxX: r.boxX,
              boxY: r.boxY,
              boxW: r.boxW,
              boxH: r.boxH,
              faceScore: r.faceScore,
              // The column (and the API's noMaskProbability) means P(no mask), also for a mask_incorrect person.
              noMaskProbability: r.noMaskProbability,
              faceSnapshotPath: r.faceSnapshotPath,
              frameSnapshotPath: r.frameSnapshotPath,
              alertId,
              personId,
            });
          }
          // The latest sighting's time, box, frame and verdict; a late frame of a known person changes none of them,
          // and a latest one changes them with two exceptions:
          // - a masked sighting says when they were last seen, not what they are accused of: the verdict stays that of the
          //   violating sightings (a window of masked frames would read as a near-zero P(no mask), and as
          //   mask_incorrect whenever that class's sliver is the larger);
          // - the box is drawn on the person's frame, so it moves only with it: a frame that was not kept (no
          //   violation in it, privacy) leaves both, and so does a masked sighting in a kept frame (another face
          //   violating), where this person is blurred; unless the person has no kept frame at all (edge cameras).
          // Masked sightings that outweigh the violating ones say so instead (maskedSince, people.ts).
          const verdict = { label: p.confirmation.label, noMaskProbability: p.confirmation.noMaskProbability };
          const place = {
            boxX: Math.round(face.box[0]),
            boxY: Math.round(face.box[1]),
            boxW: Math.round(face.box[2]),
            boxH: Math.round(face.box[3]),
            lastFrameSnapshotPath: input.frameSnapshotPath,
          };
          const shot = { firstSeenAt, bestShotPath: best.path, bestShotQuality: best.quality };
          if (existing) {
            const isLatest = at >= existing.lastSeenAt;
            const movesPlace = (addsViolations && input.frameSnapshotPath !== null) || existing.lastFrameSnapshotPath === null;
            const maskedSince = p.confirmation.maskedSince === null ? null : new Date(p.confirmation.maskedSince);
            const latest = { lastSeenAt: at, maskedSince, ...(movesPlace ? place : {}), ...(addsViolations ? verdict : {}) };
            await tx.alertPerson.update({ where: { id: existing.id }, data: { ...shot, ...(isLatest ? latest : {}) } });
          } else {
            personCreates.push({ id: personId, alertId, cameraId: input.cameraId, trackKey: p.trackKey, lastSeenAt: at, ...place, ...verdict, ...shot });
          }
          if (added > 0) addedViolations.set(alertId, (addedViolations.get(alertId) ?? 0) + added);
          touched.add(alertId);
        }
        // People before their violations (foreign key). The created rows are kept: a created alert's summary is computed from them without reading them back.
        const createdPeople = personCreates.length ? await tx.alertPerson.createManyAndReturn({ data: personCreates }) : [];
        if (newViolations.length > 0) await tx.violation.createMany({ data: newViolations });
        const violations = newViolations.length;

        for (const alertId of touched) {
          // A created alert's people and violations are all this transaction's: nothing to read back or count.
          const fresh = created.includes(alertId)
            ? { known: { lastSeenAt: at, frameSnapshotPath: input.frameSnapshotPath }, people: createdPeople.filter((p) => p.alertId === alertId), violationCount: addedViolations.get(alertId) ?? 0 }
            : { known: alertRows.get(alertId) };
          await refreshAlert(tx, alertId, at, input.frameSnapshotPath, { recount: addedViolations.has(alertId), ...fresh });
        }
        return {
          alreadyRecorded: false,
          sightings: plan.sightings.length,
          violations,
          createdAlertIds: created,
          updatedAlertIds: [...touched].filter((id) => !created.includes(id)),
        };
      });
    },
  };
  return repo;
}

export type MarkFalsePositiveOutcome =
  | { ok: true; alert: AlertRecord }
  | { ok: false; kind: 'NOT_FOUND' | 'ALREADY_MARKED'; message: string };

/** Marking one person of an incident a false positive, and reading a person's track (API side). */
export function createPeopleRepository(prisma: PrismaClient) {
  return {
    /**
     * Marks one person a false positive without touching the incident's status; the alert's summary
     * (probability, evidence) is recomputed from the remaining people, and the audit event is written
     * in the same transaction.
     */
    markFalsePositive(
      alertId: string,
      personId: string,
      reason: string,
      actor: { userId: string; role: string; username: string },
      at: Date,
    ): Promise<MarkFalsePositiveOutcome> {
      return prisma.$transaction(async (tx: Prisma.TransactionClient) => {
        const person = await tx.alertPerson.findFirst({ where: { id: personId, alertId }, select: { falsePositive: true } });
        if (!person) return { ok: false, kind: 'NOT_FOUND', message: `alert ${alertId} has no person ${personId}` } as const;
        if (person.falsePositive) {
          return { ok: false, kind: 'ALREADY_MARKED', message: `person ${personId} is already marked a false positive` } as const;
        }
        await tx.alertPerson.update({
          where: { id: personId },
          data: { falsePositive: true, falsePositiveReason: reason, falsePositiveAt: at, falsePositiveBy: actor.userId },
        });
        await refreshAlert(tx, alertId, at, null, { recount: true });
        await tx.auditEvent.create({
          data: {
            at,
            actorType: 'USER',
            actorId: actor.userId,
            actorRole: actor.role,
            action: 'alert.person_false_positive',
            subjectType: 'Alert',
            subjectId: alertId,
            details: JSON.stringify({ personId, note: reason, username: actor.username }),
          },
        });
        const alert = (await tx.alert.findUnique({ where: { id: alertId }, include: withCamera })) as AlertRecord;
        return { ok: true, alert } as const;
      });
    },

    /** The person's violating sightings over time (its crops), oldest first; null when no such person. */
    async track(alertId: string, personId: string) {
      const person = await prisma.alertPerson.findFirst({ where: { id: personId, alertId }, select: { id: true } });
      if (!person) return null;
      return prisma.violation.findMany({
        where: { personId },
        orderBy: [{ capturedAt: 'asc' }, { id: 'asc' }],
        select: { capturedAt: true, boxX: true, boxY: true, boxW: true, boxH: true, noMaskProbability: true, faceSnapshotPath: true, frameSnapshotPath: true },
      });
    },
  };
}

/**
 * Recomputes an alert's summary fields from its people (exact, so retries and reordering cannot skew them);
 * its violations are counted again only when `recount` (the caller added some). `known`: the alert's
 * lastSeenAt and frameSnapshotPath as this transaction already read them; `people` and `violationCount`:
 * all of them, when the caller knows (an alert it created), so neither is read.
 */
async function refreshAlert(
  tx: Prisma.TransactionClient,
  alertId: string,
  at: Date,
  frameSnapshotPath: string | null,
  opts: { recount: boolean; known?: { lastSeenAt: Date; frameSnapshotPath: string | null }; people?: AlertPerson[]; violationCount?: number },
): Promise<void> {
  const alert = opts.known ?? (await tx.alert.findUnique({ where: { id: alertId }, select: { lastSeenAt: true, frameSnapshotPath: true } }));
  if (!alert) throw new IncidentRecordError(`alert ${alertId} vanished while recording`);
  const people = opts.people ?? (await tx.alertPerson.findMany({ where: { alertId }, orderBy: { createdAt: 'asc' } }));
  const basis = accusedPeople(people);
  if (people.length === 0) return;
  let best: AlertPerson | null = null;
  for (const p of basis) if (p.bestShotPath && (!best || p.bestShotQuality > best.bestShotQuality)) best = p;
  const violationCount = opts.recount ? (opts.violationCount ?? (await tx.violation.count({ where: { alertId } }))) : undefined;
  await tx.alert.update({
    where: { id: alertId },
    data: {
      firstSeenAt: new Date(Math.min(...people.map((p) => p.firstSeenAt.getTime()))),
      lastSeenAt: new Date(Math.max(...people.map((p) => p.lastSeenAt.getTime()))),
      noMaskProbability: Math.max(0, ...basis.map((p) => p.noMaskProbability)),
      snapshotPath: best?.bestShotPath ?? null,
      violationCount,
      ...(frameSnapshotPath && (at >= alert.lastSeenAt || !alert.frameSnapshotPath) ? { frameSnapshotPath } : {}),
    },
  });
}

export type IncidentRepository = ReturnType<typeof createIncidentRepository>;
export type PeopleRepository = ReturnType<typeof createPeopleRepository>;
