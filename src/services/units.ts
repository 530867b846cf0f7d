/**
 * Patrol unit use cases: CRUD, members, status and position reports, audited.
 * Who may do what is checked by the caller (the route) before it calls here.
 */
import type { AuditRepository } from '../db/repositories/audit.ts';
import type { UnitInput, UnitPatch } from '../contracts/api.ts';
import { UnitError, type UnitRepository, type UnitView } from '../db/repositories/units.ts';
import type { Viewer } from '../auth/roles.ts';
import { notFound, ServiceError } from './errors.ts';
import type { Admin } from './cameras.ts';
import type { UnitEventPublisher } from '../realtime/publisher.ts';

/** A repository refusal as a service error (problem types unit-not-found / unit-conflict / unit-invalid). */
function unitFailure(err: unknown): never {
  if (err instanceof UnitError) {
    const kind = err.code === 'NOT_FOUND' ? 'NOT_FOUND' : err.code === 'CONFLICT' ? 'CONFLICT' : 'INVALID';
    throw new ServiceError(kind, err.message, `unit-${err.code.toLowerCase().replace('_', '-')}`);
  }
  throw err;
}

export function createUnitService(deps: { units: UnitRepository; audit: AuditRepository; unitEvents?: UnitEventPublisher; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const changed = (unit: UnitView) => {
    deps.unitEvents?.updated(unit);
    return unit;
  };
  const audit = (actor: Admin, action: string, subjectId: string, details: Record<string, unknown>) =>
    deps.audit.record({ actorType: 'USER', actorId: actor.id, actorRole: actor.role, action, subjectType: 'PatrolUnit', subjectId, details });

  return {
    /** Every unit; an officer sees only their own. */
    async list(viewer: Viewer): Promise<UnitView[]> {
      const all = await deps.units.list();
      return viewer.role === 'OFFICER' ? all.filter((u) => u.id === viewer.unitId) : all;
    },

    async get(viewer: Viewer, id: string): Promise<UnitView> {
      const unit = await deps.units.findById(id);
      if (!unit || (viewer.role === 'OFFICER' && viewer.unitId !== unit.id)) throw notFound(`unit ${id}`);
      return unit;
    },

    async create(data: UnitInput, actor: Admin): Promise<UnitView> {
      const unit = await deps.units.create({ ...data, callSign: data.callSign.trim() }).catch(unitFailure);
      await audit(actor, 'unit.create', unit.id, { callSign: unit.callSign });
      return changed(unit);
    },

    async update(id: string, patch: UnitPatch, actor: Admin): Promise<UnitView> {
      const before = await deps.units.findById(id);
      if (!before) throw notFound(`unit ${id}`);
      const unit = await deps.units.update(id, { ...patch, callSign: patch.callSign?.trim() }).catch(unitFailure);
      await audit(actor, 'unit.update', id, { from: { callSign: before.callSign, status: before.status }, to: patch });
      return changed(unit);
    },

    async remove(id: string, actor: Admin): Promise<void> {
      await deps.units.remove(id).catch(unitFailure);
      await audit(actor, 'unit.delete', id, {});
      deps.unitEvents?.deleted(id);
    },

    async setMembers(id: string, userIds: readonly string[], actor: Admin): Promise<UnitView> {
      const unit = await deps.units.setMembers(id, userIds).catch(unitFailure);
      await audit(actor, 'unit.members', unit.id, { userIds });
      return changed(unit);
    },

    /** Positions are frequent and not security events: not audited. */
    setPosition(id: string, latitude: number, longitude: number): Promise<UnitView> {
      return deps.units.setPosition(id, latitude, longitude, now()).then(changed, unitFailure);
    },
  };
}

export type UnitService = ReturnType<typeof createUnitService>;
