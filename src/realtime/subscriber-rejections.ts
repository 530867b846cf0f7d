import type { Redis } from 'ioredis';

/**
 * ioredis subscribes a reconnected subscriber again by itself, and Socket.IO's Redis adapter (un)subscribes
 * without awaiting: neither handles the promise. A connection closed before Redis answers (the API shutting down
 * just as Redis came back) then rejects them as unhandled rejections, which end a Node process. Every such call's
 * promise is marked handled here; a caller that awaits one still gets its error, and the client's 'error'
 * listener logs connection trouble.
 */
export function handleSubscriptionRejections(client: Redis): void {
  for (const method of ['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe'] as const) {
    const original = client[method].bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const reply = original(...args);
      reply.catch(() => undefined);
      return reply;
    };
  }
}
