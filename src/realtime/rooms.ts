/**
 * Socket.IO rooms. Dispatchers and admins see every alert; an officer's socket
 * joins only its own unit's room, so it never receives other units' alerts.
 */
export const DISPATCH_ROOM = 'dispatch';

export function unitRoom(unitId: string): string {
  return `unit:${unitId}`;
}

/**
 * The one room rule of an alert event: dispatchers, the unit now assigned, and
 * the unit it was just taken from (so that unit's screens drop it).
 */
export function alertRooms(alert: { assignedUnitId: string | null }, previousUnitId: string | null = null): string[] {
  const rooms = [DISPATCH_ROOM];
  if (alert.assignedUnitId) rooms.push(unitRoom(alert.assignedUnitId));
  if (previousUnitId && previousUnitId !== alert.assignedUnitId) rooms.push(unitRoom(previousUnitId));
  return rooms;
}
