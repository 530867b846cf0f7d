/**
 * Alert use cases: the list a user may see, suggested units, the timeline, notes, and
 * the dispatch workflow (dispatch / acknowledge / en-route / on-scene / resolve /
 * dismiss). A transition asks the pure state machine (src/domain/lifecycle.ts),
 * writes the alert, the units' statuses and an AuditEvent in one transaction
 * (src/db/repositories/dispatch.ts), then announces the change once.
 */
import type { AlertRepository } from '../db/repositories/alerts.ts';
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { DispatchRepository } from '../db/repositories/dispatch.ts';
import type { UnitRepository, UnitView } from '../db/repositories/units.ts';
import type { PageKey } from '../db/repositories/paging.ts';
import { nearestAvailableUnits } from '../domain/geo.ts';
import { resolutionOutcomeOf, transition, type Actor, type AlertAction, type LifecycleError } from '../domain/lifecycle.ts';
import type { AlertStatus } from '../contracts/vocabulary.ts';
import { alertScopeOf, type Viewer } from '../auth/roles.ts';
import type { TimelineEntry } from '../contracts/api.ts';
import type { AlertEvent } from '../realtime/events.ts';
import type { Announcer } from './announcer.ts';
import { toAlertEvent } from './alert-view.ts';
import { notFound, ServiceError } from './errors.ts';

export type TransitionOutcome =
  | { ok: true; alert: AlertEvent; from: AlertStatus; to: AlertStatus; previousUnitId: string | null }
  | { ok: false; kind: 'NOT_FOUND'; message: string }
  | { ok: false; kind: 'UNIT'; code: 'NOT_FOUND' | 'CONFLICT'; message: string }
  | { ok: false; kind: 'LIFECYCLE'; error: LifecycleError }
  /** Someone else changed the alert between our read and our write. */
  | { ok: false; kind: 'STALE'; message: string };

export type { TimelineEntry };

export interface AlertServiceDeps {
  alerts: AlertRepository;
  audit: AuditRepository;
  dispatch: DispatchRepository;
  units: UnitRepository;
  announcer: Announcer;
  now?: () => Date;
}

/** How late a step may be sent and still carry its tap time (a phone out of coverage), and the clocks' slack. */
const TAP_MAX_DELAY_MS = 3600_000;
const TAP_CLOCK_SLACK_MS = 5000;

/**
 * A phone's tap time is kept only when plausible: not after the server received the step (beyond clock slack),
 * not more than an hour before. A wrong phone clock never costs the step itself, only this annotation.
 */
export function plausibleTap(tappedAt: Date, receivedAt: Date): boolean {
  const lag = receivedAt.getTime() - tappedAt.getTime();
  return lag >= -TAP_CLOCK_SLACK_MS && lag <= TAP_MAX_DELAY_MS;
}

export function createAlertService(deps: AlertServiceDeps) {
  const now = deps.now ?? (() => new Date());

  /** The transition itself, in one transaction; no announcement. */
  function applyTransition(alertId: string, action: AlertAction, actor: Actor & { username?: string }, at: Date, note?: string, tappedAt?: Date): Promise<TransitionOutcome> {
    return deps.dispatch.inTransaction(async (tx): Promise<TransitionOutcome> => {
      const current = await tx.alertState(alertId);
      if (!current) return { ok: false, kind: 'NOT_FOUND', message: `no alert ${alertId}` };
      const result = transition(current, action, actor, at);
      if (!result.ok) return { ok: false, kind: 'LIFECYCLE', error: result.error };

      if (action.type === 'dispatch') {
        const unit = await tx.unit(action.unitId);
        if (!unit) return { ok: false, kind: 'UNIT', code: 'NOT_FOUND', message: `no unit ${action.unitId}` };
        if (unit.status === 'OFF_DUTY') return { ok: false, kind: 'UNIT', code: 'CONFLICT', message: `unit ${unit.callSign} is off duty` };
      }
      // Compare-and-set: two dispatchers racing cannot both win.
      if (!(await tx.writeTransition(alertId, current, result.changes))) {
        return { ok: false, kind: 'STALE', message: 'the alert was changed by someone else; reload and retry' };
      }

      const previousUnitId = current.assignedUnitId;
      const { status, assignedUnitId } = result.changes;
      const closes = status === 'RESOLVED' || status === 'DISMISSED';
      if (action.type === 'dispatch') await tx.markBusy(action.unitId);
      // The unit that lost (reassignment) or finished the alert is free again unless it has other work.
      const released = action.type === 'dispatch' ? (previousUnitId !== action.unitId ? previousUnitId : null) : closes ? previousUnitId : null;
      if (released) await tx.releaseIfIdle(released);

      // Officers' steps are also stamped with where their unit last reported itself.
      const unitPos = actor.role === 'OFFICER' && actor.unitId ? await tx.unitPosition(actor.unitId) : null;
      await tx.audit({
        actorId: actor.userId,
        actorRole: actor.role,
        action: `alert.${action.type}`,
        alertId,
        at,
        details: {
          from: result.from,
          to: result.to,
          username: actor.username,
          unitId: assignedUnitId,
          previousUnitId: previousUnitId !== assignedUnitId ? previousUnitId : undefined,
          note: note ?? undefined,
          outcome: action.type === 'resolve' ? action.outcome : undefined,
          tappedAt: tappedAt && plausibleTap(tappedAt, at) ? tappedAt.toISOString() : undefined,
          position:
            unitPos && unitPos.latitude !== null && unitPos.longitude !== null
              ? { latitude: unitPos.latitude, longitude: unitPos.longitude, at: unitPos.positionAt?.toISOString() }
              : undefined,
        },
      });
      const alert = await tx.alert(alertId);
      return { ok: true, alert: toAlertEvent(alert!), from: result.from, to: result.to, previousUnitId };
    });
  }

  /** Throws NOT_FOUND unless the alert exists and the viewer may see it: to them any other alert does not exist. */
  async function visible(alertId: string, viewer: Viewer): Promise<void> {
    if (!(await deps.alerts.existsIn(alertId, alertScopeOf(viewer)))) throw notFound(`alert ${alertId}`);
  }

  return {
    /** A page of alerts, newest first; `take` rows at most. */
    async list(viewer: Viewer, q: { status?: AlertStatus; cameraId?: string; after: PageKey | null; take: number }): Promise<AlertEvent[]> {
      const rows = await deps.alerts.list({
        status: q.status,
        cameraId: q.cameraId,
        scope: alertScopeOf(viewer),
        after: q.after,
        take: q.take,
      });
      return rows.map(toAlertEvent);
    },

    /**
     * Available units nearest the alert's camera first, those with no known position after them; units with
     * no officer (nobody to acknowledge) come after every unit that has one, in the same order.
     */
    async suggestedUnits(alertId: string, limit: number, viewer: Viewer): Promise<{ unit: UnitView; distanceMeters: number | null }[]> {
      await visible(alertId, viewer);
      const camera = await deps.alerts.cameraPosition(alertId);
      if (!camera) throw notFound(`alert ${alertId}`);
      const all = await deps.units.list();
      const ranked = nearestAvailableUnits(camera, all);
      const unplaced = all.filter((u) => u.status === 'AVAILABLE' && (u.latitude === null || u.longitude === null));
      const items = [
        ...ranked.map(({ distanceMeters, ...unit }) => ({ unit, distanceMeters: Math.round(distanceMeters) as number | null })),
        ...unplaced.map((unit) => ({ unit, distanceMeters: null })),
      ];
      const staffed = (item: (typeof items)[number]) => item.unit.members.length > 0;
      return [...items.filter(staffed), ...items.filter((i) => !staffed(i))].slice(0, limit);
    },

    /** The alert's audit trail, oldest first, as the dispatcher's timeline shows it. */
    async timeline(alertId: string, viewer: Viewer): Promise<TimelineEntry[]> {
      await visible(alertId, viewer);
      const rows = await deps.audit.alertTrail(alertId);
      return rows.map((r) => {
        let d: Record<string, unknown> = {};
        try {
          d = r.details ? (JSON.parse(r.details) as Record<string, unknown>) : {};
        } catch {
          // a malformed details column still yields an entry
        }
        const str = (v: unknown) => (typeof v === 'string' ? v : null);
        return {
          at: r.at.toISOString(),
          action: r.action,
          actorRole: r.actorRole,
          username: str(d.username),
          from: str(d.from),
          to: str(d.to),
          unitId: str(d.unitId),
          note: str(d.note),
          outcome: resolutionOutcomeOf(d.outcome),
          tappedAt: str(d.tappedAt),
        };
      });
    },

    /**
     * One lifecycle step by a user. A committed change is announced (sockets,
     * webhooks, timers); announcement problems are logged by the announcer, never
     * turned into a failed step.
     */
    async act(alertId: string, action: AlertAction, actor: Actor & { username?: string; zones?: readonly string[] }, note?: string, tappedAt?: Date): Promise<TransitionOutcome> {
      // Alerts outside the actor's scope (another unit's, another zone's) get the same 404 as no alert at all.
      if (!(await deps.alerts.existsIn(alertId, alertScopeOf({ ...actor, zones: actor.zones ?? [] })))) {
        return { ok: false, kind: 'NOT_FOUND', message: `no alert ${alertId}` };
      }
      const at = now();
      const outcome = await applyTransition(alertId, action, actor, at, note, tappedAt);
      if (outcome.ok) {
        await deps.announcer
          .announce({ kind: 'transition', alert: outcome.alert, from: outcome.from, to: outcome.to, previousUnitId: outcome.previousUnitId, at })
          .catch(() => undefined); // logged by the announcer; the step is committed
      }
      return outcome;
    },

    /**
     * A note on an open incident (what the officer found, what a caller added): in its timeline for everyone who
     * sees the alert, announced as alert.updated (its `noteCount` moves). An officer notes only their unit's
     * alerts; 404 for an alert the author may not see, 409 once it is closed.
     */
    async addNote(
      alertId: string,
      text: string,
      actor: Actor & { username: string; zones: readonly string[] },
      sent: { tappedAt?: Date; idempotencyKey?: string } = {},
    ): Promise<AlertEvent> {
      if (!(await deps.alerts.existsIn(alertId, alertScopeOf(actor)))) throw notFound(`alert ${alertId}`);
      const at = now();
      const note = { at: at.toISOString(), username: actor.username, role: actor.role, text: text.trim() };
      const written = await deps.alerts.addNote({
        alertId,
        text: note.text,
        actor: { userId: actor.userId, role: actor.role, username: actor.username, unitId: actor.unitId },
        at,
        tappedAt: sent.tappedAt && plausibleTap(sent.tappedAt, at) ? sent.tappedAt : undefined,
        idempotencyKey: sent.idempotencyKey,
      });
      if (!written.ok) throw written.kind === 'NOT_FOUND' ? notFound(`alert ${alertId}`) : new ServiceError('CONFLICT', 'the alert is closed: notes are added to open incidents', 'alert-closed');
      const alert = toAlertEvent(written.alert);
      // A repeat was announced the first time.
      if (!written.repeated) await deps.announcer.announce({ kind: 'noted', alert, note }).catch(() => undefined); // logged by the announcer; the note is committed
      return alert;
    },
  };
}

export type AlertService = ReturnType<typeof createAlertService>;
