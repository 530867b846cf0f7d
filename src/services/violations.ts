/** The violation history as users may see it (officers: their unit's alerts only; dispatchers with zones: their zones'). */
import type { PageKey } from '../db/repositories/paging.ts';
import type { ViolationFilter, ViolationRepository } from '../db/repositories/violations.ts';
import { alertScopeOf, type Viewer } from '../auth/roles.ts';
import { toViolationView } from './alert-view.ts';

export type ViolationView = ReturnType<typeof toViolationView>;

export function createViolationService(deps: { violations: ViolationRepository }) {
  return {
    /** A page, newest first (capturedAt desc, id desc). */
    async list(viewer: Viewer, filter: Omit<ViolationFilter, 'scope'>, after: PageKey | null, take: number): Promise<ViolationView[]> {
      const rows = await deps.violations.list({ ...filter, scope: alertScopeOf(viewer) }, after, take);
      return rows.map(toViolationView);
    },
  };
}

export type ViolationService = ReturnType<typeof createViolationService>;
