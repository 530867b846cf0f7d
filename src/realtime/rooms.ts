/**
 * Socket.IO rooms. Admins and dispatchers without zones see every alert; a
 * dispatcher with zones joins only their zones' rooms; an officer's socket joins
 * only its own unit's room, so nobody receives alerts they may not see (the
 * same rule as the API's, src/auth/roles.ts). Every command socket gets the
 * unit board.
 */
export const DISPATCH_ROOM = 'dispatch';
/** Unit changes: the unit board and map of every dispatcher and admin. */
export const UNIT_BOARD_ROOM = 'units';

export function unitRoom(unitId: string): string {
  return `unit:${unitId}`;
}

export function zoneRoom(zone: string): string {
  return `zone:${zone}`;
}

/**
 * The one room rule of an alert event: every alert's dispatchers, its camera's zone, the unit now
 * assigned, and the unit it was just taken from (so that unit's screens drop it).
 */
export function alertRooms(alert: { assignedUnitId: string | null; camera: { zone: string | null } }, previousUnitId: string | null = null): string[] {
  const rooms = [DISPATCH_ROOM];
  if (alert.camera.zone) rooms.push(zoneRoom(alert.camera.zone));
  if (alert.assignedUnitId) rooms.push(unitRoom(alert.assignedUnitId));
  if (previousUnitId && previousUnitId !== alert.assignedUnitId) rooms.push(unitRoom(previousUnitId));
  return rooms;
}

/** A unit change goes to every dispatcher and admin and to the unit's own officers. */
export function unitEventRooms(unitId: string): string[] {
  return [UNIT_BOARD_ROOM, unitRoom(unitId)];
}
