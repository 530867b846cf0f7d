/**
 * Admin › System: the deployment checks of `maskwatch doctor` (src/system/doctor.ts), run by the API instance
 * that answers, without the models (an API host does not run them). One run at a time: a second request
 * while one runs gets the same answer.
 */
import type { SystemChecks } from '../contracts/api.ts';
import { summarise, type CheckResult } from '../domain/deployment-checks.ts';

export function createSystemCheckService(deps: { run: () => Promise<CheckResult[]>; now?: () => Date }) {
  let running: Promise<SystemChecks> | null = null;
  return {
    check(): Promise<SystemChecks> {
      running ??= deps
        .run()
        .then((checks) => ({ ...summarise(checks), checkedAt: (deps.now?.() ?? new Date()).toISOString(), checks }))
        .finally(() => (running = null));
      return running;
    },
  };
}
