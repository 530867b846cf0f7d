/**
 * The dashboard's service worker, built to /sw.js. It does one job: a click on
 * an alert's system notification brings the dashboard forward on that alert
 * (phones show page notifications only through a service worker). It caches
 * nothing and answers no requests, so the dashboard is always the server's.
 *
 * Self-contained (no imports): a service worker is a classic script here. The
 * DOM library types the page; the few worker types used are declared below.
 */
interface WaitableEvent extends Event {
  waitUntil(done: Promise<unknown>): void;
}
interface NotificationClick extends WaitableEvent {
  readonly notification: { readonly data: unknown; close(): void };
}
interface WindowClient {
  focus(): Promise<WindowClient>;
  postMessage(message: unknown): void;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (event: WaitableEvent) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: NotificationClick) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: {
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
}

const worker = self as unknown as WorkerScope;

worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as { alertId?: unknown } | null;
  const alertId = typeof data?.alertId === 'string' ? data.alertId : null;
  event.waitUntil(
    (async () => {
      const [open] = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
      if (!open) {
        await worker.clients.openWindow('/');
        return;
      }
      await open.focus();
      // The same message type as src/web/notifications.ts listens for.
      if (alertId) open.postMessage({ type: 'maskwatch:open-alert', alertId });
    })(),
  );
});
