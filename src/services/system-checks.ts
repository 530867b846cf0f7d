/**
 * Admin › System: the deployment checks of `maskwatch doctor` (src/system/doctor.ts), run by the API instance
 * that answers, without the models (an API host does not run them), and every API and worker process that
 * announces itself (system/instance-beacon.ts). One run at a time: a second request while one runs gets the
 * same answer.
 */
import type { Instance, SystemChecks } from '../contracts/api.ts';
import { summarise, type CheckResult } from '../domain/deployment-checks.ts';

export function createSystemCheckService(deps: { run: () => Promise<CheckResult[]>; instances: () => Promise<Instance[]>; now?: () => Date }) {
  let running: Promise<SystemChecks> | null = null;
  return {
    check(): Promise<SystemChecks> {
      running ??= Promise.all([deps.run(), deps.instances()])
        .then(([checks, instances]) => ({ ...summarise(checks), checkedAt: (deps.now?.() ?? new Date()).toISOString(), checks, instances }))
        .finally(() => (running = null));
      return running;
    },
  };
}
