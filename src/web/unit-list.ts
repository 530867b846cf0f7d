/**
 * Pure bookkeeping of the units a view shows: no DOM, unit-tested. A unit's live events arrive in order; a fetch
 * answered after one of them (a reconnect's refetch racing a dispatcher's change) may hold what that event
 * replaced, so for a unit changed while the fetch was on its way the event's copy is kept. Timestamps are not
 * compared: they come from several API instances' clocks.
 */
import type { UnitEvent } from '../realtime/events.ts';
import type { UnitChange } from './realtime.ts';

const byCallSign = (a: UnitEvent, b: UnitEvent) => a.callSign.localeCompare(b.callSign);

/** A live event applied to the list: a deletion removes the unit, an update replaces or adds it. */
export function applyUnitEvent(list: readonly UnitEvent[], event: UnitChange): UnitEvent[] {
  const rest = list.filter((x) => x.id !== event.id);
  return 'deleted' in event ? rest : [...rest, event].sort(byCallSign);
}

/**
 * A fetched list over the one shown: units with an event since the fetch was sent (`changedDuring`) stay as the
 * events left them (added, replaced or deleted); every other unit is as fetched.
 */
export function mergeUnits(fetched: readonly UnitEvent[], shown: readonly UnitEvent[], changedDuring: ReadonlySet<string>): UnitEvent[] {
  const kept = fetched.filter((u) => !changedDuring.has(u.id));
  const live = shown.filter((u) => changedDuring.has(u.id));
  return [...kept, ...live].sort(byCallSign);
}
