/**
 * Officer view (phone-sized): my unit's open alerts with snapshot and location,
 * the response buttons, unit status and position reporting.
 */
import type { AlertEvent, AlertPersonEvent } from '../../realtime/events.ts';
import { RESOLUTION_OUTCOMES } from '../../contracts/vocabulary.ts';
import { isOpen, mergeAlerts, OUTCOME_LABELS, statusLabel, upsertAlert } from '../alert-list.ts';
import { alertNotification, officerAnnouncement } from '../alert-notifications.ts';
import { isNetworkError, type Unit, type UnitStatus } from '../api.ts';
import type { MountView } from '../context.ts';
import { field, h, option, replaceChildren, toast, uid } from '../dom.ts';
import { formatAgo, formatClock, formatCoord, mapsUrl } from '../format.ts';
import { forgetImages } from '../images.ts';
import { forgetFrames, framePeopleKey, OFFICER_PEOPLE_SHOWN, peopleStrip, type PersonFrame } from './evidence-viewer.ts';
import { tabTitle } from '../feed-order.ts';
import { closeAlertNotifications, onNotificationOpened, pageInBackground, showAlertNotification, vibrate } from '../notifications.ts';
import { alarm, chime } from '../sound.ts';
import { describeEntry, OUTBOX_SEND_TIMEOUT_MS, openOutbox, outboxStorageKey, webLocksExclusive } from '../outbox.ts';
import { liveDuringFetch } from '../live-during-fetch.ts';
import { allowedActions, OFFICER_STEPS, stepOf } from '../workflow.ts';
import { errorText, incidentFirstSeenAt, maskPutOnHint, notificationToggle, statusBadge, verdictText } from './common.ts';
import { officerNotes } from './incident-notes.ts';

interface Card {
  el: HTMLElement;
  update(a: AlertEvent): void;
  /** A step of this card was recorded: the focus goes on to the next one. */
  stepRecorded(): void;
}

/** How often what the outbox keeps is tried again (also on reconnecting and on the browser's `online`). */
const OUTBOX_RETRY_MS = 5000;
/** How long the officer's card keeps showing a person in the same frame before taking the newest one. */
const PERSON_FRAME_KEEP_MS = 60_000;

export const mountOfficer: MountView = (root, ctx) => {
  const user = ctx.session.user;
  const unitId = user.unitId;
  if (!unitId) {
    replaceChildren(
      root,
      h('section', { class: 'panel officer' }, h('h1', {}, 'My unit'), h('p', {}, 'You are not a member of a patrol unit yet. Ask an administrator to add you to one.')),
    );
    return () => undefined;
  }

  let alerts: AlertEvent[] = [];
  let unit: Unit | null = null;
  // An answer about the alerts or the unit (a refetch, a step's, a status change's or a position report's reply)
  // may be older than what came live while it was on its way: the live copy stays (live-during-fetch.ts).
  const alertEvents = liveDuringFetch<AlertEvent>();
  const unitEvents = liveDuringFetch<Unit>();
  const askAlert = (request: () => Promise<AlertEvent>): Promise<AlertEvent> =>
    alertEvents.fetch(request).then(({ answer, live }) => live.filter((a) => a.id === answer.id).at(-1) ?? answer);
  const askUnit = (request: () => Promise<Unit | null>): Promise<void> =>
    unitEvents.fetch(request).then(({ answer, live }) => {
      unit = live.at(-1) ?? answer;
      renderUnit();
    });
  const cards = new Map<string, Card>();

  // ---- the outbox: every step and note goes through it (outbox.ts) ---------
  const outbox = openOutbox({
    storage: localStorage,
    userId: user.id,
    now: () => Date.now(),
    newKey: () => crypto.randomUUID(),
    exclusive: webLocksExclusive(outboxStorageKey(user.id), navigator.locks),
    send: (e, signal) =>
      askAlert(() =>
        e.kind === 'step'
          ? ctx.api.alertAction(e.alertId, stepOf(e.action).path, e.late ? { ...e.body, tappedAt: e.tappedAt } : e.body, signal)
          : ctx.api.addNote(e.alertId, e.text, { idempotencyKey: e.key, tappedAt: e.late ? e.tappedAt : undefined, signal }),
      ),
    sendTimeoutMs: OUTBOX_SEND_TIMEOUT_MS,
    sent(e, a) {
      apply(a);
      if (e.kind !== 'step') return;
      toast(`${stepOf(e.action).label}: recorded`);
      // The disabled button dropped the focus: hand it to this card's next step (or, resolved, the next card's).
      if (document.activeElement === document.body) (cards.get(e.alertId)?.stepRecorded ?? focusFirstStep)();
    },
    refused(e, err) {
      if (e.kind === 'note') {
        toast(`Note on ${e.cameraName} not added (${errorText(err)}): “${e.text}”`, 'error');
        return;
      }
      const step = stepOf(e.action);
      const said = () => {
        toast(errorText(err), 'error');
        if (document.activeElement === document.body) (cards.get(e.alertId)?.stepRecorded ?? focusFirstStep)();
      };
      if (!e.late) return said();
      // Refused after a try without an answer: that try may have reached the server. The alert as it is now says.
      void askAlert(() => ctx.api.alert(e.alertId)).then((a) => {
        apply(a);
        if (a.status === step.status) toast(`${step.label}: recorded`);
        else toast(`${step.label} was not sent: the alert is now ${statusLabel(a.status).toLowerCase()}.`, 'error');
      }, said);
    },
    changed: () => render(),
  });
  if (outbox.expired.length) {
    const what = outbox.expired.map(describeEntry);
    toast(`Never sent, dropped after 12 hours without a connection: ${what.join(', ')}.`, 'error');
  }

  // ---- unit header: status + position ------------------------------------
  const unitTitle = h('h1', {}, 'My unit');
  const statusSel = h('select', { name: 'unit-status' }, option('AVAILABLE', 'Available'), option('BUSY', 'Busy'), option('OFF_DUTY', 'Off duty'));
  statusSel.addEventListener('change', () => {
    const chosen = statusSel.options[statusSel.selectedIndex]?.text;
    // Given up after as long as the outbox waits for an answer: a request hung on a dead connection says so too.
    void askUnit(() => ctx.api.updateUnit(unitId, { status: statusSel.value as UnitStatus }, AbortSignal.timeout(OUTBOX_SEND_TIMEOUT_MS))).then(
      () => toast(`Status: ${chosen}`),
      (err) => {
        // Not sent: the list goes back to the status dispatch sees, so the officer is not misled about it.
        renderUnit();
        const why = isNetworkError(err) ? 'no connection' : errorText(err);
        const still = unit ? ` Still ${statusSel.options[statusSel.selectedIndex]?.text}.` : '';
        toast(`Status not changed to ${chosen}: ${why}.${still}`, 'error');
      },
    );
  });
  const posInfo = h('p', { class: 'muted small', role: 'status' }, 'Position not reported yet.');
  const lat = h('input', { name: 'latitude', inputmode: 'decimal', required: true, size: 10 });
  const lon = h('input', { name: 'longitude', inputmode: 'decimal', required: true, size: 10 });
  const reportBtn = h('button', { type: 'button', class: 'btn btn-primary' }, 'Report position');
  const manual = h(
    'form',
    { class: 'inline-form position-form' },
    field('Latitude', lat),
    field('Longitude', lon),
    h('button', { type: 'submit', class: 'btn' }, 'Send position'),
  );
  const send = (la: number, lo: number, announce = true) =>
    askUnit(() => ctx.api.reportPosition(unitId, la, lo)).then(
      () => {
        if (announce) toast('Position reported');
      },
      (err) => toast(errorText(err), 'error'),
    );
  reportBtn.addEventListener('click', () => {
    if (!('geolocation' in navigator)) {
      toast('This device cannot report its location: enter it below.', 'error');
      return;
    }
    reportBtn.disabled = true;
    navigator.geolocation.getCurrentPosition(
      (p) => {
        reportBtn.disabled = false;
        void send(p.coords.latitude, p.coords.longitude);
      },
      (e) => {
        reportBtn.disabled = false;
        toast(`Location unavailable (${e.message}): enter it below.`, 'error');
      },
      { enableHighAccuracy: true, timeout: 15_000 },
    );
  });
  // Automatic sharing while the page is open, at most one report per AUTO_INTERVAL_MS.
  const AUTO_INTERVAL_MS = 30_000;
  const auto = h('input', { type: 'checkbox', id: 'auto-position' });
  let watchId: number | null = null;
  let lastSent = 0;
  auto.addEventListener('change', () => {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    if (!auto.checked) return;
    if (!('geolocation' in navigator)) {
      auto.checked = false;
      toast('This device cannot report its location.', 'error');
      return;
    }
    lastSent = 0;
    watchId = navigator.geolocation.watchPosition(
      (p) => {
        if (Date.now() - lastSent < AUTO_INTERVAL_MS) return;
        lastSent = Date.now();
        void send(p.coords.latitude, p.coords.longitude, false);
      },
      (e) => toast(`Location unavailable (${e.message})`, 'error'),
      { enableHighAccuracy: true, maximumAge: 10_000 },
    );
  });
  manual.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const la = Number(lat.value);
    const lo = Number(lon.value);
    if (!Number.isFinite(la) || la < -90 || la > 90 || !Number.isFinite(lo) || lo < -180 || lo > 180) {
      toast('Latitude must be −90…90 and longitude −180…180.', 'error');
      return;
    }
    void send(la, lo);
  });

  function renderUnit(): void {
    if (!unit) return;
    unitTitle.textContent = `Unit ${unit.callSign}`;
    statusSel.value = unit.status;
    posInfo.textContent =
      unit.latitude !== null && unit.longitude !== null && unit.positionAt
        ? `Last position ${formatCoord(unit.latitude, unit.longitude)}, ${formatAgo(unit.positionAt, Date.now())}`
        : 'Position not reported yet.';
  }

  // ---- alert cards ----------------------------------------------------------
  const list = h('ul', { class: 'officer-alerts', 'aria-label': 'My open alerts' });
  const listHeading = h('h2', { id: 'officer-h', tabindex: -1 }, 'My open alerts');
  const empty = h('p', { class: 'muted empty' }, 'No open alerts for your unit.');

  function makeCard(first: AlertEvent): Card {
    let current = first;
    const title = h('h3', {});
    const status = h('div', { class: 'card-status' });
    const meta = h('p', { class: 'meta' });
    const where = h('p', { class: 'where' });
    const mapLink = h('a', { class: 'btn btn-ghost', target: '_blank', rel: 'noopener noreferrer' }, 'Open in maps');
    const note = h('textarea', { name: 'note', rows: 2, maxlength: 2000, placeholder: 'What happened?' });
    // The note is asked for by the first tap on Resolve, not demanded by an error.
    let noteAsked = false;
    // A missing note is said under the field, where the officer is looking; a toast would cover the card.
    const noteError = h('p', { class: 'form-error', role: 'alert', id: uid('e') });
    note.setAttribute('aria-describedby', noteError.id);
    const setNoteError = (message: string): void => {
      noteError.textContent = message;
      if (message) note.setAttribute('aria-invalid', 'true');
      else note.removeAttribute('aria-invalid');
    };
    note.addEventListener('input', () => setNoteError(''));
    // How it ended (the statistics count it): big radio rows, one tap each, asked for with the note.
    const outcomeName = uid('outcome');
    const outcomeError = h('p', { class: 'form-error', role: 'alert' });
    const outcomeHint = h('p', { class: 'outcome-hint' });
    const outcomes = RESOLUTION_OUTCOMES.map((o) => h('input', { type: 'radio', name: outcomeName, value: o }));
    const outcomeField = h(
      'fieldset',
      { class: 'outcomes' },
      h('legend', {}, 'How did it end?'),
      outcomeHint,
      ...outcomes.map((input, i) => h('label', { class: 'check' }, input, ` ${OUTCOME_LABELS[RESOLUTION_OUTCOMES[i]!]}`)),
      outcomeError,
    );
    // "Mask put on" is offered while the camera has seen everyone put a mask on, until the officer picks an outcome.
    let outcomeOffered = false;
    outcomeField.addEventListener('change', () => {
      outcomeError.textContent = '';
      outcomeOffered = false;
    });
    // A step waits in the outbox until the server answers (a dead zone, a tunnel, a killed tab), said here rather
    // than in a toast the officer may not see. The buttons wait meanwhile.
    const pendingNote = h('p', { class: 'pending-step', role: 'status', hidden: true });
    const buttons = OFFICER_STEPS.map((step) => {
      const b = h('button', { type: 'button', class: `btn ${step.action === 'resolve' ? 'btn-success' : 'btn-primary'}` }, step.label);
      b.addEventListener('click', () => {
        const body: Record<string, string> = {};
        if (step.action === 'resolve') {
          if (!noteAsked) {
            noteAsked = true;
            update(current);
            (outcomes.find((o) => o.checked) ?? outcomes[0]!).focus();
            return;
          }
          const chosen = outcomes.find((o) => o.checked);
          if (!chosen) {
            outcomeError.textContent = 'Choose how it ended first.';
            outcomes[0]!.focus();
            return;
          }
          const text = note.value.trim();
          if (!text) {
            setNoteError('Add a resolution note first.');
            note.focus();
            return;
          }
          setNoteError('');
          body.outcome = chosen.value;
          body.note = text;
        }
        outbox.add({ kind: 'step', alertId: current.id, cameraName: current.camera.name, action: step.action, body });
      });
      return { step, b };
    });
    function focusNextStep(): void {
      if (!el.isConnected) focusFirstStep();
      else buttons.find((x) => !x.b.disabled)?.b.focus();
    }
    const noteField = field('Resolution note', note);
    noteField.append(noteError);
    // The people to find, large, with last-seen time (evidence-viewer.ts); a crowd shows its first few until asked.
    const people = h('div', { class: 'officer-people-slot' });
    const morePeople = h('button', { type: 'button', class: 'btn btn-ghost btn-block people-toggle', 'aria-expanded': 'false' });
    let showAll = false;
    let peopleKey = '';
    /** Who the frames show unblurred, as last rendered (evidence-viewer.ts framePeopleKey). */
    let framesKey: string | undefined;
    /**
     * The frame each person is shown in, kept for PERSON_FRAME_KEEP_MS: a person moves to a new frame with every
     * violating sighting (twice a second from a video camera), and a phone on mobile data must not fetch them all.
     */
    const shownFrames = new Map<string, PersonFrame & { at: number }>();
    const frameOf = (p: AlertPersonEvent, now: number): PersonFrame | null => {
      if (!p.frameSnapshotUrl) return null;
      const kept = shownFrames.get(p.id);
      if (kept && now - kept.at < PERSON_FRAME_KEEP_MS) return kept;
      const next = { url: p.frameSnapshotUrl, box: p.box, at: now };
      shownFrames.set(p.id, next);
      return next;
    };
    morePeople.addEventListener('click', () => {
      showAll = !showAll;
      peopleKey = '';
      update(current);
      // Folding a long list back would leave the page inside the next card: keep this card's toggle in view.
      if (!showAll) morePeople.scrollIntoView({ block: 'nearest' });
    });
    const notes = officerNotes(ctx, first, outbox);
    const el = h(
      'li',
      { class: 'card officer-card', 'data-alert-id': first.id },
      h('div', { class: 'card-head' }, title, status),
      where,
      mapLink,
      meta,
      h('div', { class: 'steps', role: 'group', 'aria-label': 'Response' }, ...buttons.slice(0, 3).map((x) => x.b)),
      pendingNote,
      // Who to look for comes right after the steps that get the officer there, before the notes and the closing Resolve.
      people,
      morePeople,
      notes.el,
      h('div', { class: 'resolve' }, outcomeField, noteField, buttons[3]!.b),
    );
    function renderPeople(a: AlertEvent): void {
      const pk = `${showAll}|${a.people.map((p) => `${p.id}:${p.lastSeenAt}:${p.maskedSince}:${p.falsePositive}`).join('|')}`;
      if (pk === peopleKey) return;
      peopleKey = pk;
      const fk = framePeopleKey(a);
      if (framesKey !== undefined && fk !== framesKey) {
        forgetImages([...shownFrames.values()].map((f) => f.url));
        shownFrames.clear();
        forgetFrames(a);
      }
      framesKey = fk;
      const now = Date.now();
      replaceChildren(people, peopleStrip(ctx.api, a, now, showAll ? Infinity : OFFICER_PEOPLE_SHOWN, (p) => frameOf(p, now)));
      const total = a.people.filter((p) => !p.falsePositive).length;
      morePeople.hidden = total <= OFFICER_PEOPLE_SHOWN;
      morePeople.textContent = showAll ? `Show the first ${OFFICER_PEOPLE_SHOWN} only` : `Show all ${total} people`;
      morePeople.setAttribute('aria-expanded', String(showAll));
    }
    function update(a: AlertEvent): void {
      current = a;
      renderPeople(a);
      notes.update(a);
      title.textContent = a.camera.name;
      replaceChildren(status, statusBadge(a.status));
      meta.textContent = `First seen ${formatClock(incidentFirstSeenAt(a))} · ${verdictText(a)} · ${a.violationCount} violation${a.violationCount === 1 ? '' : 's'}`;
      where.textContent = [a.camera.address, a.camera.zone].filter(Boolean).join(' · ') || formatCoord(a.camera.latitude, a.camera.longitude);
      mapLink.href = mapsUrl(a.camera.latitude, a.camera.longitude);
      mapLink.setAttribute('aria-label', `Open in maps: ${a.camera.name}`);
      const allowed = allowedActions(a, user);
      const waiting = outbox.entries(a.id).find((e) => e.kind === 'step');
      const late = waiting?.late ? stepOf(waiting.action) : null;
      pendingNote.hidden = !late;
      pendingNote.textContent = late ? `${late.label}: not sent yet, no connection. It is sent as soon as the connection is back.` : '';
      for (const { step, b } of buttons) b.disabled = waiting !== undefined || !allowed.has(step.action);
      noteField.hidden = outcomeField.hidden = !allowed.has('resolve') || !noteAsked;
      const hint = maskPutOnHint(a);
      outcomeHint.textContent = hint ?? '';
      outcomeHint.hidden = hint === null;
      // What the camera saw is offered, not decided: the officer still confirms it with Resolve.
      if (noteAsked && (outcomeOffered || !outcomes.some((o) => o.checked))) {
        outcomes.find((o) => o.value === 'MASK_PUT_ON')!.checked = outcomeOffered = hint !== null;
      }
    }
    update(first);
    return { el, update, stepRecorded: focusNextStep };
  }

  /** Resolved, a card has left: the next alert's step (or the list) takes the focus, not the page. */
  function focusFirstStep(): void {
    (list.querySelector<HTMLButtonElement>('.officer-card button:not([disabled])') ?? listHeading).focus();
  }

  function render(): void {
    const mine = alerts.filter((a) => a.assignedUnitId === unitId && isOpen(a.status));
    const keep = new Set(mine.map((a) => a.id));
    for (const [id, c] of cards) {
      if (!keep.has(id)) {
        c.el.remove();
        cards.delete(id);
      }
    }
    mine.forEach((a, i) => {
      let c = cards.get(a.id);
      if (c) c.update(a);
      else {
        c = makeCard(a);
        cards.set(a.id, c);
      }
      // Move a card only when the order changed: moving a node drops the focus inside it.
      if (list.children[i] !== c.el) list.insertBefore(c.el, list.children[i] ?? null);
    });
    empty.hidden = mine.length > 0;
    document.title = tabTitle('My unit', mine.length, 0);
  }

  /** "x min ago" texts age with the clock (the cards re-render only on events). */
  function tick(): void {
    const now = Date.now();
    for (const el of list.querySelectorAll<HTMLElement>('[data-seen-at]')) el.textContent = formatAgo(el.dataset.seenAt!, now);
    renderUnit();
  }

  function apply(a: AlertEvent): void {
    const before = alerts.find((x) => x.id === a.id);
    alerts = upsertAlert(alerts, a);
    render();
    // Acknowledged (here or on another phone of the unit), reassigned or closed: its notification has done its job.
    if (before?.status === 'DISPATCHED' && (a.status !== 'DISPATCHED' || a.assignedUnitId !== unitId)) void closeAlertNotifications(a.id);
  }

  async function reload(): Promise<void> {
    try {
      const { answer, live } = await alertEvents.fetch(() => ctx.api.openAndRecentAlerts(20));
      alerts = mergeAlerts(mergeAlerts(alerts, answer), live);
      render();
    } catch (err) {
      toast(`Could not load alerts: ${errorText(err)}`, 'error');
    }
  }

  async function loadUnit(): Promise<void> {
    try {
      await askUnit(async () => (await ctx.api.units()).items.find((u) => u.id === unitId) ?? null);
    } catch (err) {
      toast(`Could not load the unit: ${errorText(err)}`, 'error');
    }
  }

  // The unit as the server has it, live: a dispatch makes it busy, closing frees it, a dispatcher may set it.
  const offUnit = ctx.realtime.onUnit((u) => {
    if (u.id !== unitId || 'deleted' in u) return;
    unitEvents.seen(u);
    unit = u;
    renderUnit();
  });
  const offAlert = ctx.realtime.onAlert((_kind, a) => {
    alertEvents.seen(a);
    const known = cards.has(a.id);
    const before = alerts.find((x) => x.id === a.id);
    const news = officerAnnouncement(before, a, unitId);
    apply(a);
    if (!known && cards.has(a.id)) {
      cards.get(a.id)!.el.classList.add('is-new');
      chime();
    }
    if (!news) return;
    // A phone in a pocket: it buzzes, and a locked or backgrounded page shows a system notification.
    if (news === 'unacknowledged') alarm();
    vibrate();
    if (pageInBackground()) void showAlertNotification(a.id, alertNotification(news, a));
  });
  // A click on an assignment's notification brings its card into view, ready to acknowledge.
  const offOpened = onNotificationOpened((id) => {
    const card = cards.get(id);
    if (!card) return;
    card.el.scrollIntoView({ block: 'start' });
    card.el.querySelector<HTMLButtonElement>('button:not([disabled])')?.focus();
  });
  let first = true;
  const retryPending = () => void outbox.flush();
  const offConn = ctx.realtime.onConnection((s) => {
    if (s === 'live' && !first) {
      void reload();
      void loadUnit(); // what changed while the socket was away
      retryPending();
    }
    first = false;
  });
  window.addEventListener('online', retryPending);
  // Another tab of this officer added to the outbox or sent from it: its waiting marks change here too.
  const onStorage = (ev: StorageEvent) => ev.key === outboxStorageKey(user.id) && render();
  window.addEventListener('storage', onStorage);
  const retrier = setInterval(retryPending, OUTBOX_RETRY_MS);

  replaceChildren(
    root,
    h(
      'section',
      { class: 'panel officer', 'aria-labelledby': 'officer-h' },
      h('div', { class: 'panel-head' }, unitTitle, field('Unit status', statusSel)),
      h('div', { class: 'toolbar' }, notificationToggle()),
      h('div', { class: 'position' }, reportBtn, h('label', { for: 'auto-position', class: 'check' }, auto, ' Share automatically'), posInfo),
      h('details', {}, h('summary', {}, 'Enter position by hand'), manual),
      listHeading,
      list,
      empty,
    ),
  );
  // What an earlier page left in the outbox goes out once the cards it belongs to are shown.
  void Promise.all([reload(), loadUnit()]).then(() => outbox.flush());
  const ticker = setInterval(tick, 15_000);
  return () => {
    clearInterval(ticker);
    clearInterval(retrier);
    window.removeEventListener('online', retryPending);
    window.removeEventListener('storage', onStorage);
    offAlert();
    offUnit();
    offOpened();
    offConn();
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  };
};
