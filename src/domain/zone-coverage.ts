/**
 * Who watches which zone. A dispatcher limited to zones sees only their cameras' alerts, so a zone (or a
 * camera without one) that no dispatcher sees sends its alerts to admins alone: the gap an admin must see.
 */

export interface ZoneCoverage {
  /** null: the cameras without a zone. */
  zone: string | null;
  cameras: number;
  openAlerts: number;
  /** Enabled dispatchers who see the zone's alerts: those limited to it and those who see every zone. */
  dispatchers: number;
  /** Of them, those limited to it (named in their zones). */
  zonedDispatchers: number;
  /** Settings that name the zone (a directory group map, a webhook target): a rename must change them too. */
  namedBy: string[];
}

/** A zone a setting names, and which setting. */
export interface ZoneSetting {
  zone: string;
  by: string;
}

/**
 * One row per zone of a camera, of a dispatcher's list or of a setting (a name no camera has any more shows
 * with 0 cameras), named zones alphabetically, then the cameras without a zone.
 */
export function zoneCoverage(
  cameraZones: readonly { zone: string | null; cameras: number; openAlerts: number }[],
  dispatchers: readonly { zones: readonly string[] }[],
  settings: readonly ZoneSetting[] = [],
): ZoneCoverage[] {
  const everywhere = dispatchers.filter((d) => d.zones.length === 0).length;
  const rows = new Map<string | null, ZoneCoverage>();
  const row = (zone: string | null) => {
    const existing = rows.get(zone);
    if (existing) return existing;
    const created: ZoneCoverage = { zone, cameras: 0, openAlerts: 0, dispatchers: everywhere, zonedDispatchers: 0, namedBy: [] };
    rows.set(zone, created);
    return created;
  };
  for (const c of cameraZones) Object.assign(row(c.zone), { cameras: c.cameras, openAlerts: c.openAlerts });
  for (const d of dispatchers) {
    for (const zone of d.zones) {
      const r = row(zone);
      r.zonedDispatchers += 1;
      r.dispatchers += 1;
    }
  }
  for (const { zone, by } of settings) row(zone).namedBy.push(by);
  return [...rows.values()].sort((a, b) => (a.zone === null ? 1 : b.zone === null ? -1 : a.zone.localeCompare(b.zone)));
}
