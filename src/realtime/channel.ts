/**
 * The Redis key prefix of Socket.IO's Redis adapter (API instances) and of the
 * Redis emitter (workers). Both sides MUST use the same value or events published
 * by workers never reach sockets. Derived from the queue prefix so separate
 * deployments / test runs sharing one Redis stay isolated.
 */
export function socketIoRedisKey(queuePrefix: string): string {
  return `${queuePrefix}:socket.io`;
}
