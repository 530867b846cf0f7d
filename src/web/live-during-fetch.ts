/**
 * What came live while a request was on its way. A request's answer (a reconnect's refetch, an action's reply) may
 * have been read before a change whose socket event arrived first; merged under the events seen since the request
 * was sent, it never puts back what they replaced. Events, not timestamps: the server's instances have their own
 * clocks. Requests may overlap; each gets the events from its own start.
 */
export interface LiveDuringFetch<T> {
  /** A live event (call it for every one). */
  seen(event: T): void;
  /** Runs the request; its answer with the events seen while it was on its way, oldest first. */
  fetch<R>(request: () => Promise<R>): Promise<{ answer: R; live: T[] }>;
}

export function liveDuringFetch<T>(): LiveDuringFetch<T> {
  const open = new Set<T[]>();
  return {
    seen(event) {
      for (const live of open) live.push(event);
    },
    async fetch(request) {
      const live: T[] = [];
      open.add(live);
      try {
        return { answer: await request(), live };
      } finally {
        open.delete(live);
      }
    },
  };
}
