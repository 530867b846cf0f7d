/**
 * Socket.IO rooms. Dispatchers and admins see every alert; an officer's socket
 * joins only its own unit's room, so it never receives other units' alerts.
 */
export const DISPATCH_ROOM = 'dispatch';

export function unitRoom(unitId: string): string {
  return `unit:${unitId}`;
}

/** A unit change goes to dispatchers and to the unit's own officers. */
export function unitEventRooms(unitId: string): string[] {
  return [DISPATCH_ROOM, unitRoom(unitId)];
}
