/** The violation history as users may see it (officers: their unit's alerts only). */
import type { PageKey } from '../db/repositories/paging.ts';
import type { ViolationFilter, ViolationRepository } from '../db/repositories/violations.ts';
import type { Viewer } from './alerts.ts';
import { toViolationView } from './alert-view.ts';

export type ViolationView = ReturnType<typeof toViolationView>;

export function createViolationService(deps: { violations: ViolationRepository }) {
  return {
    /** A page, newest first (capturedAt desc, id desc). */
    async list(viewer: Viewer, filter: Omit<ViolationFilter, 'assignedUnitId'>, after: PageKey | null, take: number): Promise<ViolationView[]> {
      const rows = await deps.violations.list({ ...filter, assignedUnitId: viewer.role === 'OFFICER' ? viewer.unitId : undefined }, after, take);
      return rows.map(toViolationView);
    },
  };
}

export type ViolationService = ReturnType<typeof createViolationService>;
