/** Socket.IO connection of a logged-in user (bundled client, same origin, token in the handshake). */
import { io, type Socket } from 'socket.io-client';
import type { AlertEvent, ClientToServerEvents, ServerToClientEvents } from '../realtime/events.ts';

export type AlertEventKind = 'alert.created' | 'alert.updated';
export type AlertListener = (kind: AlertEventKind, alert: AlertEvent) => void;
export type ConnectionListener = (state: 'live' | 'offline') => void;

export interface Realtime {
  onAlert(listener: AlertListener): () => void;
  /** Called on every (re)connect and disconnect; views refetch on 'live' to fill any gap. */
  onConnection(listener: ConnectionListener): () => void;
  readonly state: 'live' | 'offline';
  close(): void;
}

export function connectRealtime(token: string): Realtime {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({
    auth: { token },
    transports: ['websocket', 'polling'],
  });
  const alertListeners = new Set<AlertListener>();
  const connListeners = new Set<ConnectionListener>();
  let state: 'live' | 'offline' = 'offline';
  const setState = (s: 'live' | 'offline') => {
    state = s;
    for (const l of connListeners) l(s);
  };
  socket.on('connect', () => setState('live'));
  socket.on('disconnect', () => setState('offline'));
  socket.on('connect_error', () => setState('offline'));
  socket.on('alert.created', (a) => {
    for (const l of alertListeners) l('alert.created', a);
  });
  socket.on('alert.updated', (a) => {
    for (const l of alertListeners) l('alert.updated', a);
  });
  return {
    onAlert(listener) {
      alertListeners.add(listener);
      return () => alertListeners.delete(listener);
    },
    onConnection(listener) {
      connListeners.add(listener);
      return () => connListeners.delete(listener);
    },
    get state() {
      return state;
    },
    close() {
      alertListeners.clear();
      connListeners.clear();
      socket.close();
    },
  };
}
