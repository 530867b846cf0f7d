/**
 * System notifications for alerts, so a console in the background or a phone in
 * a pocket still hears of them. Off until the user turns them on (browsers ask
 * for permission only from a click); shown through the service worker (/sw.js),
 * the only way phones show them; a click brings the dashboard to that alert.
 */
import { alertTag, type AlertNotification } from './alert-notifications.ts';

export type NotificationState = 'on' | 'off' | 'blocked' | 'unsupported';

const PREFERENCE_KEY = 'maskwatch.notifications';
/** The message sw.ts posts when a notification is clicked. */
const OPEN_ALERT = 'maskwatch:open-alert';

function supported(): boolean {
  // Service workers need a secure context: https, or http on localhost.
  return typeof Notification !== 'undefined' && 'serviceWorker' in navigator && window.isSecureContext;
}

export function notificationState(): NotificationState {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  return Notification.permission === 'granted' && localStorage.getItem(PREFERENCE_KEY) === 'on' ? 'on' : 'off';
}

function registration(): Promise<ServiceWorkerRegistration> {
  return navigator.serviceWorker.register('/sw.js').then(() => navigator.serviceWorker.ready);
}

/** Call from a click: asks the browser's permission the first time. */
export async function turnOnNotifications(): Promise<NotificationState> {
  if (!supported()) return 'unsupported';
  const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
  if (permission !== 'granted') return permission === 'denied' ? 'blocked' : 'off';
  localStorage.setItem(PREFERENCE_KEY, 'on');
  await registration();
  return 'on';
}

export function turnOffNotifications(): void {
  localStorage.setItem(PREFERENCE_KEY, 'off');
}

/**
 * Shows one alert's notification (replacing an earlier one of the same alert); false when notifications are off
 * or the browser did not show it. Never rejects.
 */
export async function showAlertNotification(alertId: string, n: AlertNotification): Promise<boolean> {
  if (notificationState() !== 'on') return false;
  const reg = await registration().catch(() => null);
  if (!reg) return false; // the other cues (sound, toast, title) remain
  const options = {
    body: n.body,
    tag: n.tag,
    requireInteraction: n.urgent,
    data: { alertId },
    // renotify and vibrate are honoured by the browsers that know them (not in every DOM typing).
    ...({ renotify: true, vibrate: n.urgent ? [400, 200, 400] : [200] } as object),
  };
  // Chromium now and then resolves showNotification without showing anything (seen in about one run in five of the
  // e2e test): what the browser does not list is shown again, a few times.
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      await reg.showNotification(n.title, options);
      if ((await reg.getNotifications({ tag: n.tag })).length > 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } catch {
    // permission withdrawn meanwhile: the other cues remain
  }
  return false;
}

/** Takes back what no longer needs attention: one alert's notification, or all (on logout, for the next person). Never rejects. */
export async function closeAlertNotifications(alertId?: string): Promise<void> {
  if (!supported()) return;
  try {
    const reg = await navigator.serviceWorker.getRegistration('/');
    for (const n of (await reg?.getNotifications(alertId ? { tag: alertTag(alertId) } : undefined)) ?? []) n.close();
  } catch {
    // nothing shown that could be listed
  }
}

/** Called with the alert of a clicked notification; returns the unsubscribe function. */
export function onNotificationOpened(listener: (alertId: string) => void): () => void {
  if (!supported()) return () => undefined;
  const onMessage = (ev: MessageEvent) => {
    const data = ev.data as { type?: unknown; alertId?: unknown } | null;
    if (data?.type === OPEN_ALERT && typeof data.alertId === 'string') listener(data.alertId);
  };
  navigator.serviceWorker.addEventListener('message', onMessage);
  return () => navigator.serviceWorker.removeEventListener('message', onMessage);
}

/** The user is not looking at this page: another tab, another window, a locked phone. */
export function pageInBackground(): boolean {
  return document.visibilityState === 'hidden' || !document.hasFocus();
}

/** A phone's buzz for what needs the officer now (ignored where there is no vibrator). */
export function vibrate(pattern: number[] = [400, 200, 400]): void {
  if ('vibrate' in navigator) navigator.vibrate(pattern);
}
