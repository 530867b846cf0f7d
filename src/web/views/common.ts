/** Small view helpers shared by the dispatcher and officer views. */
import type { PersonLabel } from '../../contracts/vocabulary.ts';
import { accusedPeople } from '../../domain/people.ts';
import type { AlertEvent } from '../../realtime/events.ts';
import { statusLabel } from '../alert-list.ts';
import { isNetworkError } from '../api.ts';
import { h, toast } from '../dom.ts';
import { formatClock, formatModelScore } from '../format.ts';
import { notificationState, turnOffNotifications, turnOnNotifications, type NotificationState } from '../notifications.ts';

/** A person's label (contracts/vocabulary.ts PERSON_LABELS) as the dashboard says it. */
export const PERSON_LABEL_TEXT: Record<PersonLabel, string> = { no_mask: 'No mask', mask_incorrect: 'Mask worn incorrectly' };

/** "3 people · " for an incident with people, "2 people, 1 not a violation · " once some are marked (empty for a legacy alert without any). */
export function peopleText(a: { people: ReadonlyArray<Pick<AlertEvent['people'][number], 'falsePositive'>> }): string {
  const notViolations = a.people.filter((p) => p.falsePositive).length;
  const n = a.people.length - notViolations;
  const marked = notViolations > 0 ? `${notViolations} not a violation` : '';
  if (n === 0) return marked ? `${marked} · ` : '';
  return `${n} ${n === 1 ? 'person' : 'people'}${marked ? `, ${marked}` : ''} · `;
}

/** " · 2 now wearing a mask" on an incident's card: people who have put a mask on since (maskedSince), for deciding whether to send someone. */
export function maskedText(a: { people: ReadonlyArray<Pick<AlertEvent['people'][number], 'maskedSince' | 'falsePositive'>> }): string {
  const people = a.people.filter((p) => !p.falsePositive);
  const n = people.filter((p) => p.maskedSince).length;
  if (n === 0) return '';
  return ` · ${n < people.length ? `${n} ` : people.length > 1 ? 'all ' : ''}now wearing a mask`;
}

/**
 * A person seen with a mask on after the alert (their masked sightings outweigh the violating ones since), for the
 * dispatcher deciding whether to send someone and the officer looking for the face: null while they are not.
 */
export function maskedSinceText(p: Pick<AlertEvent['people'][number], 'maskedSince'>): string | null {
  return p.maskedSince ? `Now wearing a mask, since ${formatClock(p.maskedSince)}` : null;
}

/**
 * When every person of an incident has put a mask on (not counting false positives), what the officer closing it
 * is told above "How did it end?", with "Mask put on" chosen for them (one tap changes it), and the reason a
 * dispatcher dismissing it is offered; null otherwise.
 */
export function maskPutOnHint(a: { people: ReadonlyArray<Pick<AlertEvent['people'][number], 'maskedSince' | 'falsePositive'>> }): string | null {
  const people = a.people.filter((p) => !p.falsePositive);
  if (people.length === 0 || people.some((p) => !p.maskedSince)) return null;
  const last = Math.max(...people.map((p) => Date.parse(p.maskedSince!)));
  return `The camera has seen ${people.length > 1 ? 'everyone' : 'the person'} wearing a mask since ${formatClock(new Date(last).toISOString())}.`;
}

/** The zones cameras have, each once, alphabetically (what a zone field offers). */
export function zonesOfCameras(cameras: readonly { zone: string | null }[]): string[] {
  return [...new Set(cameras.map((c) => c.zone).filter((z): z is string => !!z))].sort((a, b) => a.localeCompare(b));
}

export function statusBadge(status: AlertEvent['status']): HTMLElement {
  return h('span', { class: `badge status-${status}` }, statusLabel(status));
}

/**
 * What an alert accuses, for its card: no mask, with the model's score said as a score, and how many of its people
 * wear a mask incorrectly; or, when every person does, that alone (their P(no mask) is low by nature, and "5 %"
 * read as a weak alert).
 */
export function verdictText(a: { noMaskProbability: number; people: ReadonlyArray<Pick<AlertEvent['people'][number], 'label' | 'falsePositive'>> }): string {
  // The same people the alert's noMaskProbability is taken from (incidents repository): not those marked a false positive.
  const people = accusedPeople(a.people);
  const incorrect = people.filter((p) => p.label === 'mask_incorrect').length;
  if (incorrect > 0 && incorrect === people.length) return 'mask worn incorrectly';
  const noMask = `no mask (model score ${formatModelScore(a.noMaskProbability)})`;
  return incorrect > 0 ? `${noMask}, ${incorrect} mask worn incorrectly` : noMask;
}

/**
 * When the incident began for the people it still accuses: the earliest capture time among them. The alert
 * row is written after its frames were analysed, so createdAt (the fallback) is later than what the camera saw.
 */
export function incidentFirstSeenAt(a: { createdAt: string; people: ReadonlyArray<Pick<AlertEvent['people'][number], 'firstSeenAt' | 'falsePositive'>> }): string {
  let first = a.createdAt;
  for (const p of a.people) if (!p.falsePositive && Date.parse(p.firstSeenAt) < Date.parse(first)) first = p.firstSeenAt;
  return first;
}

/** No answer at all (server down, network gone): fetch() rejects with a TypeError ("Failed to fetch"). */
export function errorText(err: unknown): string {
  if (isNetworkError(err)) return 'No connection to the server. This refreshes by itself once the connection is back.';
  return err instanceof Error ? err.message : String(err);
}

const NOTIFICATION_TEXT: Record<NotificationState, string> = {
  on: 'Notifications on',
  off: 'Notifications off',
  blocked: 'Notifications blocked',
  unsupported: '',
};

/**
 * The switch for system notifications (notifications.ts). Hidden where the browser has none (plain http on
 * another host than localhost); when the browser blocks them, it says where to allow them instead of asking again.
 */
export function notificationToggle(): HTMLButtonElement {
  const btn = h('button', { type: 'button', class: 'btn btn-small notify-toggle' });
  const render = (state: NotificationState) => {
    btn.hidden = state === 'unsupported';
    btn.textContent = NOTIFICATION_TEXT[state];
    btn.setAttribute('aria-pressed', String(state === 'on'));
    btn.dataset.state = state;
  };
  btn.addEventListener('click', () => {
    const state = notificationState();
    if (state === 'blocked') {
      toast("Notifications are blocked for this site: allow them in the browser's site settings, then click again.", 'error');
      return;
    }
    if (state === 'on') {
      turnOffNotifications();
      render('off');
      toast('Notifications off');
      return;
    }
    void turnOnNotifications().then(
      (now) => {
        render(now);
        toast(now === 'on' ? 'Notifications on: alerts are shown even when this page is in the background' : 'Notifications were not allowed', now === 'on' ? 'info' : 'error');
      },
      (err) => toast(`Notifications could not be turned on: ${errorText(err)}`, 'error'),
    );
  });
  render(notificationState());
  return btn;
}
