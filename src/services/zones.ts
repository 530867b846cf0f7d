/**
 * Zones: who watches which (coverage), and renaming one everywhere at once. A zone is a name cameras and
 * dispatchers share; renaming it by hand meant editing each camera and each dispatcher, with alerts
 * reaching nobody in between.
 */
import { actorFields, type AuditActor, type AuditRepository } from '../db/repositories/audit.ts';
import type { AlertRepository } from '../db/repositories/alerts.ts';
import type { ZoneRepository } from '../db/repositories/zones.ts';
import type { Zone, ZoneRename, ZoneRenamed } from '../contracts/api.ts';
import { zoneCoverage, type ZoneSetting } from '../domain/zone-coverage.ts';
import { toAlertEvent } from './alert-view.ts';
import type { Announcer } from './announcer.ts';
import { notFound, ServiceError } from './errors.ts';

export function createZoneService(deps: {
  zones: ZoneRepository;
  audit: AuditRepository;
  /** The zones the settings name (src/config/config.ts zonesInSettings). */
  settings?: readonly ZoneSetting[];
  /** With both, the open alerts of renamed cameras are announced, to the old zone's consoles too. */
  alerts?: Pick<AlertRepository, 'openOfCamera'>;
  announcer?: Announcer;
}) {
  async function list(): Promise<Zone[]> {
    const [cameraZones, dispatchers] = await Promise.all([deps.zones.cameraZones(), deps.zones.dispatchers()]);
    return zoneCoverage(cameraZones, dispatchers, deps.settings);
  }

  return {
    list,

    /**
     * Renames on every camera and in every dispatcher's zones. The dispatchers keep their sessions: their
     * sockets are dropped by the session re-check (their zones changed) and rejoin under the new name.
     */
    async rename(input: ZoneRename, actor: AuditActor): Promise<ZoneRenamed> {
      const { from, to } = input;
      // The API's schema says the same; the CLI comes here directly.
      if (to.trim() !== to || to.length === 0 || to.length > 100) throw new ServiceError('INVALID', 'the new name has 1–100 characters, with no leading or trailing spaces', 'validation');
      if (from === to) throw new ServiceError('INVALID', 'the new name is the same as the old one', 'validation');
      const known = await list();
      // A name only settings use has nothing here to rename.
      if (!known.some((z) => z.zone === from && (z.cameras > 0 || z.zonedDispatchers > 0))) throw notFound(`zone "${from}"`, 'zone-not-found');
      const merged = known.some((z) => z.zone === to);
      const { cameraIds, userIds } = await deps.zones.rename(from, to);
      const namedBy = (deps.settings ?? []).filter((setting) => setting.zone === from).map((setting) => setting.by);
      const result = { from, to, cameras: cameraIds.length, dispatchers: userIds.length, merged, namedBy };
      await deps.audit.record({
        ...actorFields(actor),
        action: 'zone.rename',
        subjectType: 'Zone',
        subjectId: to,
        details: { ...result, cameraIds, userIds },
      });
      if (deps.alerts && deps.announcer) {
        for (const cameraId of cameraIds) {
          for (const alert of await deps.alerts.openOfCamera(cameraId)) await deps.announcer.announce({ kind: 'camera', alert: toAlertEvent(alert), previousZone: from });
        }
      }
      return result;
    },
  };
}
