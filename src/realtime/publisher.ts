/**
 * Publishes alert events from worker processes to every API instance's sockets
 * through Redis (Socket.IO redis-emitter), so workers never import the server.
 */
import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { socketIoRedisKey } from './channel.ts';
import type { AlertEvent, ServerToClientEvents } from './events.ts';
import { alertRooms } from './rooms.ts';
import type { AlertEventName } from '../contracts/vocabulary.ts';
import type { RealtimeServer } from './server.ts';

export type { AlertEventName };

export interface AlertPublisher {
  /**
   * Puts the event into the rooms (default: the alert's rooms, see rooms.ts).
   * Resolves once Redis accepted the message (delivery to sockets is best effort, as in Socket.IO).
   */
  publish(name: AlertEventName, alert: AlertEvent, rooms?: string[]): Promise<void>;
}

export function createAlertPublisher(opts: { redis: Redis; queuePrefix: string; logger: Logger }): AlertPublisher {
  // The emitter calls publish() and drops the promise; capture it so failures are
  // reported to the caller instead of surfacing as unhandled rejections.
  let pending: Promise<unknown> | null = null;
  const client = {
    publish(channel: string, message: string | Buffer) {
      pending = opts.redis.publish(channel, message);
      return pending;
    },
  };
  const emitter = new Emitter<ServerToClientEvents>(client, { key: socketIoRedisKey(opts.queuePrefix) });
  return {
    async publish(name, alert, rooms = alertRooms(alert)) {
      pending = null;
      emitter.to(rooms).emit(name, alert);
      const sent = pending as Promise<unknown> | null;
      if (!sent) throw new Error('socket.io emitter did not publish');
      await sent;
      opts.logger.debug({ event: name, alertId: alert.id, violationCount: alert.violationCount }, 'alert event published');
    },
  };
}

/**
 * The API process's publisher: emits through its own Socket.IO server (the Redis
 * adapter carries it to every other instance). `io` is read at emit time, as the
 * server may be attached after the app is built.
 */
export function createIoPublisher(io: () => RealtimeServer | undefined, logger: Logger): AlertPublisher {
  return {
    async publish(name, alert, rooms = alertRooms(alert)) {
      const server = io();
      if (server) server.to(rooms).emit(name, alert);
      else logger.warn({ alertId: alert.id, event: name }, `no Socket.IO server attached: ${name} not emitted`);
    },
  };
}
