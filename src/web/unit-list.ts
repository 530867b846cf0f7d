/** Pure bookkeeping of the units a view shows: no DOM, unit-tested. */
import type { UnitEvent } from '../realtime/events.ts';
import type { UnitChange } from './realtime.ts';

const byCallSign = (a: UnitEvent, b: UnitEvent) => a.callSign.localeCompare(b.callSign);

/** A live event applied to the list: a deletion removes the unit, an update replaces or adds it. */
export function applyUnitEvent(list: readonly UnitEvent[], event: UnitChange): UnitEvent[] {
  const rest = list.filter((x) => x.id !== event.id);
  return 'deleted' in event ? rest : [...rest, event].sort(byCallSign);
}

/** A fetched list with the events that came live while it was on its way applied over it (live-during-fetch.ts). */
export function refetchedUnits(fetched: readonly UnitEvent[], live: readonly UnitChange[]): UnitEvent[] {
  return live.reduce(applyUnitEvent, [...fetched].sort(byCallSign));
}
