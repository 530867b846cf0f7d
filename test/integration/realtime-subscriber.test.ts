/**
 * The realtime subscriber closed at the moment ioredis subscribes it again after a reconnect (the API shutting down
 * just as Redis came back) leaves no unhandled rejection: one such rejection failed a landing run once.
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { handleSubscriptionRejections } from '../../src/realtime/subscriber-rejections.ts';
import { REDIS_URL, uniquePrefix } from '../helpers/env.ts';
import { withTimeout } from '../helpers/wait.ts';

test("a subscriber closed as ioredis subscribes it again after a reconnect: no unhandled rejection, and a caller that awaits still gets the error", async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const sub = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  sub.on('error', () => undefined);
  try {
    handleSubscriptionRejections(sub);
    await sub.subscribe(`${uniquePrefix('sub')}:channel`);
    // ioredis's own re-subscription (its promise dropped) is sent, and the connection closes before Redis answers.
    const resubscribed = new Promise<void>((resolve) => {
      const subscribe = sub.subscribe.bind(sub) as (...args: unknown[]) => Promise<unknown>;
      (sub as unknown as { subscribe: unknown }).subscribe = (...args: unknown[]) => {
        sub.disconnect();
        const reply = subscribe(...args);
        resolve();
        return reply;
      };
    });
    sub.disconnect(true); // the connection drops; ioredis reconnects and subscribes again
    await withTimeout(resubscribed, 'ioredis subscribing again after the reconnect');
    await withTimeout(new Promise((resolve) => sub.once('end', resolve)), 'the subscriber closing');
    for (let i = 0; i < 3; i++) await nextTurn(); // rejections are reported after the microtasks of a turn
    assert.deepEqual(unhandled, []);
    await assert.rejects(sub.subscribe('another'), /Connection is closed/);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    sub.disconnect();
  }
});
