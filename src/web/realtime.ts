/** Socket.IO connection of a logged-in user (bundled client, same origin, token in the handshake). */
import { io, type Socket } from 'socket.io-client';
import type { AlertEvent, ClientToServerEvents, ServerToClientEvents, UnitEvent } from '../realtime/events.ts';

export type AlertEventKind = 'alert.created' | 'alert.updated';
export type AlertListener = (kind: AlertEventKind, alert: AlertEvent) => void;
/** A unit's live change: its new state, or its deletion. */
export type UnitChange = UnitEvent | { id: string; deleted: true };
export type UnitListener = (unit: UnitChange) => void;
export type ConnectionListener = (state: 'live' | 'offline') => void;

export interface Realtime {
  onAlert(listener: AlertListener): () => void;
  /** unit.updated (and unit.deleted, as `{ id, deleted: true }`). */
  onUnit(listener: UnitListener): () => void;
  /** Called on every (re)connect and disconnect; views refetch on 'live' to fill any gap. */
  onConnection(listener: ConnectionListener): () => void;
  /** The server refused the token (expired or revoked session). */
  onAuthError(listener: () => void): () => void;
  readonly state: 'live' | 'offline';
  /** Drops and re-opens the connection (e.g. with a new token after logging in again). */
  reconnect(): void;
  /** Moves the open connection onto a renewed token (session.renew); reconnects with it if the server says no. */
  renew(token: string): void;
  close(): void;
}

/** `getToken` is read at every (re)connect, so a renewed session's token is used from then on. */
export function connectRealtime(getToken: () => string | null): Realtime {
  /** The token of the latest handshake: a refusal of an older token than the page's current one is retried. */
  let handshakeToken = '';
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({
    auth: (cb) => {
      handshakeToken = getToken() ?? '';
      cb({ token: handshakeToken });
    },
    transports: ['websocket', 'polling'],
  });
  const alertListeners = new Set<AlertListener>();
  const unitListeners = new Set<UnitListener>();
  const connListeners = new Set<ConnectionListener>();
  const authListeners = new Set<() => void>();
  let state: 'live' | 'offline' = 'offline';
  const setState = (s: 'live' | 'offline') => {
    state = s;
    for (const l of connListeners) l(s);
  };
  socket.on('connect', () => setState('live'));
  socket.on('disconnect', (reason) => {
    setState('offline');
    // The server dropped us on purpose (e.g. this session was logged out elsewhere): Socket.IO
    // does not retry that by itself. Try once; a refused token then reports an auth error.
    if (reason === 'io server disconnect') socket.connect();
  });
  socket.on('connect_error', (err) => {
    setState('offline');
    if (!/unauthorized/i.test(err.message)) return;
    // The session was renewed while this handshake carried the old token: try again with the new one.
    const current = getToken();
    if (current && current !== handshakeToken) {
      socket.connect();
      return;
    }
    // A refused handshake is not retried by Socket.IO: the session is over.
    for (const l of authListeners) l();
  });
  socket.on('alert.created', (a) => {
    for (const l of alertListeners) l('alert.created', a);
  });
  socket.on('alert.updated', (a) => {
    for (const l of alertListeners) l('alert.updated', a);
  });
  socket.on('unit.updated', (u) => {
    for (const l of unitListeners) l(u);
  });
  socket.on('unit.deleted', (u) => {
    for (const l of unitListeners) l({ id: u.id, deleted: true });
  });
  const subscribe = <T>(set: Set<T>) => (listener: T) => {
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  };
  return {
    onAlert: subscribe(alertListeners),
    onUnit: subscribe(unitListeners),
    onConnection: subscribe(connListeners),
    onAuthError: subscribe(authListeners),
    get state() {
      return state;
    },
    reconnect() {
      socket.disconnect();
      socket.connect();
    },
    renew(token) {
      if (!socket.connected) return; // the next handshake uses the new token anyway
      socket.timeout(5000).emit('session.renew', token, (err, result) => {
        if (err || !result?.ok) {
          socket.disconnect();
          socket.connect();
        }
      });
    },
    close() {
      alertListeners.clear();
      unitListeners.clear();
      connListeners.clear();
      authListeners.clear();
      socket.close();
    },
  };
}
