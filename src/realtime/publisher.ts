/**
 * Publishes alert events from worker processes to every API instance's sockets
 * through Redis (Socket.IO redis-emitter), so workers never import the server.
 */
import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { socketIoRedisKey } from './channel.ts';
import type { AlertEvent, ServerToClientEvents } from './events.ts';
import { DISPATCH_ROOM, unitRoom } from './rooms.ts';

export type AlertEventName = 'alert.created' | 'alert.updated';

export interface AlertPublisher {
  /** Resolves once Redis accepted the message (delivery to sockets is best effort, as in Socket.IO). */
  publish(name: AlertEventName, alert: AlertEvent): Promise<void>;
}

/** Dispatchers see every alert; the assigned unit's officers see theirs. */
export function alertRooms(alert: Pick<AlertEvent, 'assignedUnitId'>): string[] {
  return alert.assignedUnitId ? [DISPATCH_ROOM, unitRoom(alert.assignedUnitId)] : [DISPATCH_ROOM];
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
    async publish(name, alert) {
      pending = null;
      emitter.to(alertRooms(alert)).emit(name, alert);
      const sent = pending as Promise<unknown> | null;
      if (!sent) throw new Error('socket.io emitter did not publish');
      await sent;
      opts.logger.debug({ event: name, alertId: alert.id, violationCount: alert.violationCount }, 'alert event published');
    },
  };
}
