/**
 * Dispatcher view, built for a whole shift: a priority-ordered live feed with
 * filters and hotkeys (views/alert-feed.ts), alert detail with Assign /
 * Dismiss, a unit status board and a camera map, all updated in place from
 * socket events. New alerts and escalations are announced (toast, sound, title
 * badge, reorder); a reconnect refetches and clears stale errors.
 */
import type { AlertEvent } from '../../realtime/events.ts';
import { ALERT_STATUSES, isOpen, MAX_CLOSED_KEPT, mergeAlerts, pruneAlerts, statusLabel, upsertAlert } from '../alert-list.ts';
import { cameraHealth } from '../../domain/camera-health.ts';
import { ApiError, type Camera, type MapSettings, type SuggestedUnit, type Unit } from '../api.ts';
import type { MountView } from '../context.ts';
import { field, h, option, replaceChildren, toast } from '../dom.ts';
import {
  announcementFor,
  decodeFilter,
  decodeUnseen,
  DEFAULT_FILTER,
  encodeFilter,
  encodeUnseen,
  feedFacets,
  feedView,
  hiddenByFilter,
  NO_ZONE,
  pruneUnseen,
  tabTitle,
  type FeedFilter,
} from '../feed-order.ts';
import { formatCoord, formatDateTime, formatDistance, formatModelScore, mapsUrl } from '../format.ts';
import { alertNotification } from '../alert-notifications.ts';
import { closeAlertNotifications, onNotificationOpened, pageInBackground, showAlertNotification } from '../notifications.ts';
import { hashDetail } from '../session.ts';
import { alarm, audioBlocked, chime, onAudioUnlocked, unlockAudio, unlockOnNextGesture } from '../sound.ts';
import { createEvidenceViewer, faceAndFrame } from './evidence-viewer.ts';
import type { UnitChange } from '../realtime.ts';
import { applyUnitEvent, refetchedUnits } from '../unit-list.ts';
import { liveDuringFetch } from '../live-during-fetch.ts';
import { allowedActions } from '../workflow.ts';
import { createAlertFeed } from './alert-feed.ts';
import { createCameraMap } from './camera-map.ts';
import { unitBoardRows } from './unit-board.ts';
import { timelineItems } from './alert-timeline.ts';
import { errorText, maskPutOnHint, notificationToggle, statusBadge } from './common.ts';
import { noteForm } from './incident-notes.ts';

const SOUND_KEY = 'maskwatch.sound';
const FILTER_KEY = 'maskwatch.feedFilter';
/** Per user and per tab: what this dispatcher has not looked at yet survives a reload. */
const UNSEEN_KEY = 'maskwatch.unseen.';

interface State {
  alerts: AlertEvent[];
  fresh: Set<string>;
  /** Escalated alerts the dispatcher has not opened yet (title badge, card highlight). */
  escalated: Set<string>;
  selectedId: string | null;
  filter: FeedFilter;
  sound: boolean;
  units: Unit[];
  cameras: Camera[];
  /** Tile server, when configured; the plain map until loaded or when not. */
  map: MapSettings | null;
  /** MASKWATCH_CAMERA_SILENT_S from the server; 0 (no silent cameras shown) until loaded. */
  cameraSilentSeconds: number;
}

/** Keys typed into a field are text, never hotkeys. */
function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

const HOTKEYS: [string, string][] = [
  ['j / ↓', 'Next alert'],
  ['k / ↑', 'Previous alert'],
  ['Enter', 'Open the alert'],
  ['a', 'Assign a unit (then Tab/Enter to pick)'],
  ['d', 'Dismiss with a reason'],
  ['n', 'Add a note to the alert'],
  ['f', 'Go to the filters'],
  ['m', 'Mute / unmute sound'],
  ['Esc', 'Close a panel, back to the feed'],
  ['?', 'Show / hide this help'],
];

export const mountDispatcher: MountView = (root, ctx) => {
  const unseenKey = UNSEEN_KEY + ctx.session.user.id;
  const myZones = ctx.session.user.zones ?? [];
  const inMyZones = (a: AlertEvent) => myZones.length === 0 || (a.camera.zone !== null && myZones.includes(a.camera.zone));
  const unseen = decodeUnseen(sessionStorage.getItem(unseenKey));
  /** Until the first fetch the list is empty: nothing kept from before the reload may be pruned yet. */
  let loaded = false;
  const state: State = {
    alerts: [],
    fresh: unseen.fresh,
    escalated: unseen.escalated,
    selectedId: null,
    filter: decodeFilter(localStorage.getItem(FILTER_KEY)),
    // On by default: an unheard alert is the failure that matters. Muting is remembered.
    sound: localStorage.getItem(SOUND_KEY) !== 'off',
    units: [],
    cameras: [],
    map: null,
    cameraSilentSeconds: 0,
  };
  const unitName = (id: string | null) => (id ? (state.units.find((u) => u.id === id)?.callSign ?? 'unit') : null);

  // ---- feed -------------------------------------------------------------
  const feedWidget = createAlertFeed({
    open: (id) => select(id),
    assign: (id) => {
      select(id);
      openAssign(true);
    },
    dismiss: (id) => {
      select(id);
      openDismiss();
    },
    note: (id) => {
      select(id);
      focusNote();
    },
    unitName,
  });
  const count = h('span', { class: 'count', role: 'status' });

  const statusSel = h('select', { name: 'status' }, option('open', 'Open', true), option('all', 'All'), ...ALERT_STATUSES.map((st) => option(st, statusLabel(st))));
  const zoneSel = h('select', { name: 'zone' }, option('', 'All zones'));
  const cameraSel = h('select', { name: 'camera' }, option('', 'All cameras'));
  const filters = h('form', { class: 'feed-filters', 'aria-label': 'Filter alerts' }, field('Status', statusSel), field('Zone', zoneSel), field('Camera', cameraSel));
  filters.addEventListener('submit', (ev) => ev.preventDefault());
  const setFilter = (f: FeedFilter) => {
    state.filter = f;
    localStorage.setItem(FILTER_KEY, encodeFilter(state.filter));
    renderList();
  };
  const onFilter = () => setFilter({ status: statusSel.value as FeedFilter['status'], zone: zoneSel.value, cameraId: cameraSel.value });
  for (const sel of [statusSel, zoneSel, cameraSel]) sel.addEventListener('change', onFilter);
  // Filters are remembered across reloads: say when they hide open alerts, above all escalated ones.
  const hiddenText = h('span', {});
  const escalatedHidden = h('strong', { class: 'escalated-hidden' });
  const clearFilters = h('button', { type: 'button', class: 'btn btn-small' }, 'Clear filters');
  clearFilters.addEventListener('click', () => setFilter({ ...DEFAULT_FILTER }));
  const filterNote = h('p', { class: 'filter-note', role: 'status', hidden: true }, hiddenText, escalatedHidden, clearFilters);
  function renderFilterNote(): void {
    const hidden = hiddenByFilter(state.alerts, state.filter);
    filterNote.hidden = !hidden;
    if (!hidden) return;
    hiddenText.textContent = `${hidden.shown} of ${hidden.open} open alerts shown`;
    escalatedHidden.hidden = hidden.escalatedHidden === 0;
    escalatedHidden.textContent = `⚠ ${hidden.escalatedHidden} escalated hidden`;
  }

  function renderFacets(): void {
    const f = feedFacets(state.alerts, state.cameras);
    const fill = (sel: HTMLSelectElement, first: string, listed: [string, string][], value: string) => {
      // A filter on something no longer listed is kept (it may come back) and shown.
      const opts: [string, string][] = value && !listed.some(([v]) => v === value) ? [...listed, [value, sel === zoneSel ? value : 'Camera (no longer listed)']] : listed;
      const want = opts.map(([v, l]) => `${v}\u0001${l}`).join('\u0002');
      if (sel.dataset.opts !== want) {
        sel.dataset.opts = want;
        replaceChildren(sel, option('', first), ...opts.map(([v, l]) => option(v, l)));
      }
      sel.value = value;
    };
    fill(zoneSel, 'All zones', [...f.zones.map((z): [string, string] => [z, z]), ...(f.hasNoZone ? [[NO_ZONE, 'No zone'] as [string, string]] : [])], state.filter.zone);
    fill(cameraSel, 'All cameras', f.cameras.map((c): [string, string] => [c.id, c.name]), state.filter.cameraId);
    statusSel.value = state.filter.status;
  }

  const soundBtn = h('button', { type: 'button', class: 'btn btn-small sound-toggle', 'aria-pressed': 'true' });
  const soundHint = h('button', { type: 'button', class: 'btn btn-small btn-ghost sound-blocked', hidden: true }, 'Sound blocked by the browser — click to enable');
  function renderSound(): void {
    soundBtn.setAttribute('aria-pressed', String(!state.sound));
    soundBtn.setAttribute('aria-label', state.sound ? 'Sound on: mute alert sounds' : 'Muted: unmute alert sounds');
    soundBtn.textContent = state.sound ? 'Sound on' : 'Muted';
    soundHint.hidden = !state.sound || !audioBlocked();
  }
  function toggleSound(): void {
    state.sound = !state.sound;
    localStorage.setItem(SOUND_KEY, state.sound ? 'on' : 'off');
    if (state.sound) {
      unlockAudio();
      chime();
    }
    renderSound();
    toast(state.sound ? 'Alert sounds on' : 'Alert sounds muted');
  }
  soundBtn.addEventListener('click', toggleSound);
  soundHint.addEventListener('click', () => {
    unlockAudio();
    chime();
  });
  const offUnlocked = onAudioUnlocked(renderSound);
  unlockOnNextGesture();

  const helpBtn = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': 'Keyboard shortcuts', 'aria-keyshortcuts': '?' }, '?');
  const help = h(
    'dialog',
    { class: 'help-dialog', 'aria-labelledby': 'help-title' },
    h('h2', { id: 'help-title' }, 'Keyboard shortcuts'),
    h('dl', { class: 'hotkeys' }, ...HOTKEYS.flatMap(([k, v]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, v)])),
    h('form', { method: 'dialog' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Close')),
  );
  help.addEventListener('close', () => feedWidget.focus());
  const toggleHelp = () => (help.open ? help.close() : help.showModal());
  helpBtn.addEventListener('click', toggleHelp);

  const feed = h(
    'section',
    { class: 'panel feed', 'aria-labelledby': 'feed-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'feed-title' }, 'Live alerts'), count, h('div', { class: 'toolbar' }, soundBtn, notificationToggle(), helpBtn)),
    soundHint,
    filters,
    filterNote,
    feedWidget.el,
    help,
  );

  /** Whether the camera list has come (a dispatcher limited to zones gets their zones' cameras only). */
  let camerasLoaded = false;

  function emptyFeedText(): string {
    if (state.filter.status !== 'open' || state.filter.zone || state.filter.cameraId) return 'No alerts match these filters.';
    if (myZones.length === 0) return 'No open alerts.';
    // Zones no camera has (a misspelt or renamed zone): a quiet feed here means nothing is watched, so say so.
    if (camerasLoaded && state.cameras.length === 0) return `No camera is in ${myZones.join(', ')}: no alert can reach you. Ask an administrator to check your zones.`;
    return `No open alerts in ${myZones.join(', ')}.`;
  }

  function renderList(): void {
    const shown = feedView(state.alerts, state.filter);
    const open = state.alerts.filter((a) => isOpen(a.status)).length;
    count.textContent = `${open} open`;
    // Escalations stop counting once handled or closed.
    if (loaded) pruneUnseen(state, state.alerts);
    sessionStorage.setItem(unseenKey, encodeUnseen(state));
    document.title = tabTitle('Dispatch', open, state.escalated.size);
    feedWidget.update({
      alerts: shown,
      selectedId: state.selectedId,
      fresh: state.fresh,
      escalated: state.escalated,
      emptyText: emptyFeedText(),
      now: Date.now(),
    });
    renderFacets();
    renderFilterNote();
  }

  // ---- detail -----------------------------------------------------------
  const detail = h('section', { class: 'panel detail', 'aria-labelledby': 'detail-title' });
  let detailFor: string | null = null;
  let refreshDetail: (a: AlertEvent) => void = () => undefined;

  /** Assign / Dismiss of the alert shown, for the hotkeys (set by renderDetail). */
  let detailControls: { openAssign(focusFirst: boolean): void; openDismiss(): void; focusNote(): void } | null = null;
  const openAssign = (focusFirst: boolean) => detailControls?.openAssign(focusFirst);
  const openDismiss = () => detailControls?.openDismiss();
  const focusNote = () => detailControls?.focusNote();

  function select(id: string, focusFeed = true): void {
    state.selectedId = id;
    state.fresh.delete(id);
    state.escalated.delete(id);
    void closeAlertNotifications(id);
    renderList();
    renderDetail();
    // The selection is part of the URL, so a reload or a shared link opens the same alert.
    history.replaceState(null, '', `#/dispatch?alert=${encodeURIComponent(id)}`);
    if (focusFeed) feedWidget.focus(id);
  }

  /** Back to the feed after an action, on the alert itself or, when it left the list, its neighbour. */
  function backToFeed(id: string, neighbour: string | null): void {
    if (!feedWidget.focus(id) && !(neighbour && feedWidget.focus(neighbour))) feedWidget.focus();
  }
  function neighbourOf(id: string): string | null {
    const shown = feedView(state.alerts, state.filter).map((a) => a.id);
    const i = shown.indexOf(id);
    return i < 0 ? null : (shown[i + 1] ?? shown[i - 1] ?? null);
  }

  function renderDetail(): void {
    const alert = state.alerts.find((a) => a.id === state.selectedId);
    if (!alert) {
      detailFor = null;
      detailControls = null;
      replaceChildren(detail, h('h2', { id: 'detail-title' }, 'Alert detail'), h('p', { class: 'muted placeholder' }, 'Select an alert from the live feed.'));
      return;
    }
    if (detailFor === alert.id) {
      refreshDetail(alert);
      return;
    }
    detailFor = alert.id;
    const facts = h('dl', { class: 'facts' });
    const images = h('div', { class: 'snapshots' });
    // Incidents with people get the evidence viewer (zoomable frame, numbered people, crops over time).
    const evidence = createEvidenceViewer({ api: ctx.api, canReview: ctx.session.user.role !== 'OFFICER' });
    const title = h('h2', { id: 'detail-title', class: 'detail-title' });
    const statusEl = h('div', { class: 'detail-status', role: 'status', 'aria-label': 'Alert status' });
    const timeline = h('ol', { class: 'timeline', 'aria-label': 'Timeline' });
    let imageKey = '';
    let timelineKey = '';
    // A note shows in the timeline at once; other consoles get it with the alert.updated it raises.
    const notes = noteForm(ctx, () => alert.id, (a) => refreshDetail(a));
    const loadTimeline = (a: AlertEvent) => {
      void ctx.api.timeline(a.id).then(
        (t) => {
          if (detailFor !== a.id) return;
          replaceChildren(timeline, ...timelineItems(a, t.items, unitName));
        },
        () => undefined,
      );
    };

    // Assign: suggested units, nearest first.
    const assignBtn = h('button', { type: 'button', class: 'btn btn-primary', 'aria-expanded': 'false', 'aria-controls': 'assign-panel' }, 'Assign');
    const assignPanel = h('div', { id: 'assign-panel', class: 'subpanel', hidden: true });
    const showAssign = (open: boolean, focusFirst: boolean) => {
      if (open && assignBtn.disabled) return;
      assignPanel.hidden = !open;
      assignBtn.setAttribute('aria-expanded', String(open));
      dismissPanel.hidden = true;
      dismissBtn.setAttribute('aria-expanded', 'false');
      if (open) void loadSuggestions(alert.id, assignPanel, focusFirst);
    };
    assignBtn.addEventListener('click', () => showAssign(assignPanel.hidden === true, false));

    // Dismiss with a reason.
    const dismissBtn = h('button', { type: 'button', class: 'btn btn-danger', 'aria-expanded': 'false', 'aria-controls': 'dismiss-panel' }, 'Dismiss');
    const reason = h('input', { name: 'reason', required: true, maxlength: 500, placeholder: 'e.g. false positive, duplicate' });
    const dismissForm = h(
      'form',
      { class: 'inline-form' },
      field('Reason', reason),
      h('button', { type: 'submit', class: 'btn btn-danger' }, 'Confirm dismiss'),
    );
    const dismissPanel = h('div', { id: 'dismiss-panel', class: 'subpanel', hidden: true }, dismissForm);
    let offeredReason = '';
    const showDismiss = (open: boolean) => {
      if (open && dismissBtn.disabled) return;
      dismissPanel.hidden = !open;
      dismissBtn.setAttribute('aria-expanded', String(open));
      assignPanel.hidden = true;
      assignBtn.setAttribute('aria-expanded', 'false');
      if (!open) return;
      // An incident whose people have all put a mask on offers that as the reason, selected: typing replaces it. An
      // offer left untouched follows the incident (someone seen without a mask again withdraws it).
      const hint = maskPutOnHint(state.alerts.find((a) => a.id === alert.id) ?? alert) ?? '';
      if (!reason.value || reason.value === offeredReason) reason.value = offeredReason = hint;
      reason.focus();
      reason.select();
    };
    dismissBtn.addEventListener('click', () => showDismiss(dismissPanel.hidden === true));
    detailControls = { openAssign: (focusFirst) => showAssign(true, focusFirst), openDismiss: () => showDismiss(true), focusNote: () => notes.focus() };
    // Escape closes an open panel and returns to the feed, where the dispatcher came from.
    for (const panel of [assignPanel, dismissPanel]) {
      panel.addEventListener('keydown', (ev) => {
        if ((ev as KeyboardEvent).key !== 'Escape') return;
        ev.preventDefault();
        showAssign(false, false);
        feedWidget.focus(alert.id);
      });
    }
    // …and leaves the note (`n`) the same way, keeping what was typed.
    notes.el.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape') return;
      ev.preventDefault();
      feedWidget.focus(alert.id);
    });
    dismissForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = reason.value.trim();
      if (!text) {
        reason.focus();
        return;
      }
      const neighbour = neighbourOf(alert.id);
      void act(() => ctx.api.alertAction(alert.id, 'dismiss', { reason: text }), 'Alert dismissed').then((ok) => {
        if (ok) {
          reason.value = '';
          dismissPanel.hidden = true;
          backToFeed(alert.id, neighbour);
        }
      });
    });

    refreshDetail = (a: AlertEvent) => {
      title.textContent = a.camera.name;
      replaceChildren(statusEl, statusBadge(a.status), a.assignedUnitId ? h('span', { class: 'assigned' }, `Assigned to ${unitName(a.assignedUnitId)}`) : h('span', { class: 'assigned muted' }, 'Unassigned'));
      const camera = state.cameras.find((c) => c.id === a.cameraId);
      const rows: [string, Node | string][] = [
        ['Camera', a.camera.name],
        ['Address', a.camera.address ?? '–'],
        ['Zone', a.camera.zone ?? '–'],
        ['Position', h('a', { href: mapsUrl(a.camera.latitude, a.camera.longitude), target: '_blank', rel: 'noopener noreferrer' }, formatCoord(a.camera.latitude, a.camera.longitude))],
        ['Alert raised', formatDateTime(a.createdAt)],
        ['Last seen', formatDateTime(a.lastSeenAt)],
        ['Model score (no mask)', formatModelScore(a.noMaskProbability)],
        ['Violations', String(a.violationCount)],
        ['Escalation', a.escalationLevel > 0 ? `Level ${a.escalationLevel}` : 'None'],
      ];
      if (camera && !camera.enabled) rows.push(['Camera state', 'Disabled']);
      replaceChildren(facts, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
      if (a.people.length > 0) {
        if (imageKey !== 'evidence') {
          imageKey = 'evidence';
          replaceChildren(images, evidence.el);
        }
        evidence.update(a);
      } else {
        const key = `${a.snapshotUrl}|${a.frameSnapshotUrl}`;
        if (key !== imageKey) {
          imageKey = key;
          replaceChildren(images, ...faceAndFrame(ctx.api, a));
        }
      }
      const tk = `${a.status}|${a.assignedUnitId}|${a.noteCount}`;
      if (tk !== timelineKey) {
        timelineKey = tk;
        loadTimeline(a);
      }
      const allowed = allowedActions(a, ctx.session.user);
      assignBtn.disabled = !allowed.has('dispatch');
      assignBtn.textContent = a.assignedUnitId ? 'Reassign' : 'Assign';
      assignBtn.setAttribute('aria-label', a.assignedUnitId ? 'Reassign: another unit' : 'Assign');
      dismissBtn.disabled = !allowed.has('dismiss');
      if (assignBtn.disabled) assignPanel.hidden = true;
      if (dismissBtn.disabled) dismissPanel.hidden = true;
      notes.update(a);
    };
    // The actions come right under the title: a crowd's evidence and people list can run a screen or two long.
    replaceChildren(
      detail,
      h('div', { class: 'panel-head' }, title, statusEl),
      h('div', { class: 'actions' }, assignBtn, dismissBtn),
      assignPanel,
      dismissPanel,
      images,
      facts,
      h('h3', { class: 'timeline-title' }, 'Timeline'),
      timeline,
      notes.el,
    );
    refreshDetail(alert);
  }

  async function loadSuggestions(alertId: string, panel: HTMLElement, focusFirst: boolean): Promise<void> {
    replaceChildren(panel, h('p', { class: 'muted' }, 'Finding nearest available units…'));
    let items: SuggestedUnit[];
    try {
      items = (await ctx.api.suggestedUnits(alertId)).items;
    } catch (err) {
      replaceChildren(panel, h('p', { class: 'form-error' }, errorText(err)));
      return;
    }
    if (!items.length) {
      replaceChildren(panel, h('p', { class: 'muted' }, 'No available units. Check the unit status board.'));
      return;
    }
    replaceChildren(
      panel,
      h('h3', {}, 'Suggested units (nearest first)'),
      h(
        'ol',
        { class: 'suggestions', 'aria-label': 'Suggested units' },
        ...items.map((s) =>
          h(
            'li',
            {},
            h('span', { class: 'callsign' }, s.unit.callSign),
            h('span', { class: 'muted' }, s.distanceMeters === null ? 'position unknown' : formatDistance(s.distanceMeters)),
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-primary btn-small',
                'aria-label': `Assign ${s.unit.callSign}`,
                onclick: () => {
                  const neighbour = neighbourOf(alertId);
                  void act(() => ctx.api.alertAction(alertId, 'dispatch', { unitId: s.unit.id }), `Dispatched ${s.unit.callSign}`).then((ok) => {
                    if (!ok) return;
                    panel.hidden = true;
                    // The button is gone with the panel: focus goes back to the alert, not to the page.
                    backToFeed(alertId, neighbour);
                  });
                },
              },
              'Assign',
            ),
          ),
        ),
      ),
    );
    if (focusFirst) panel.querySelector<HTMLButtonElement>('.suggestions button')?.focus();
  }

  async function act(call: () => Promise<AlertEvent>, success: string): Promise<boolean> {
    try {
      const updated = await call();
      applyAlert(updated);
      toast(success);
      void refreshUnits();
      return true;
    } catch (err) {
      toast(errorText(err), 'error');
      if (err instanceof ApiError && err.status === 409) void reload();
      return false;
    }
  }

  // ---- unit board + map ---------------------------------------------------
  const board = h('tbody');
  const map = createCameraMap((cameraId) => {
    const a = feedView(state.alerts, { status: 'open', zone: '', cameraId })[0];
    if (a) select(a.id);
  });
  const side = h(
    'section',
    { class: 'panel side', 'aria-label': 'Units and cameras' },
    h('h2', {}, 'Unit status'),
    h('table', { class: 'table board', 'aria-label': 'Unit status board' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Unit'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Position'), h('th', { scope: 'col' }, 'Alert'))), board),
    h('h2', {}, 'Camera map'),
    map.el,
  );

  function renderBoard(): void {
    replaceChildren(board, ...unitBoardRows(state.units, state.alerts, Date.now(), (id) => select(id)));
  }

  function renderMap(): void {
    const now = Date.now();
    const silent = new Set(state.cameras.filter((c) => cameraHealth(c, now, state.cameraSilentSeconds) === 'silent').map((c) => c.id));
    map.update({ cameras: state.cameras, units: state.units, openAlerts: state.alerts.filter((a) => isOpen(a.status)), silentCameraIds: silent, settings: state.map });
  }

  // ---- data -------------------------------------------------------------
  function applyAlert(a: AlertEvent): void {
    // A dispatcher limited to zones drops an alert whose camera moved out of them (the server tells the old zone once).
    state.alerts = inMyZones(a) ? pruneAlerts(upsertAlert(state.alerts, a), MAX_CLOSED_KEPT) : state.alerts.filter((x) => x.id !== a.id);
    renderList();
    if (a.id === state.selectedId) renderDetail();
    renderBoard();
    renderMap();
  }

  // Alerts and units received live while a fetch is on its way win over the fetched copy.
  const alertEvents = liveDuringFetch<AlertEvent>();
  const unitEvents = liveDuringFetch<UnitChange>();
  async function reload(): Promise<boolean> {
    try {
      const { answer: fetched, live } = await alertEvents.fetch(() => ctx.api.openAndRecentAlerts());
      state.alerts = pruneAlerts(mergeAlerts(mergeAlerts(state.alerts, fetched), live), MAX_CLOSED_KEPT);
      loaded = true;
      renderList();
      renderDetail();
      renderBoard();
      renderMap();
      return true;
    } catch (err) {
      toast(`Could not load alerts: ${errorText(err)}`, 'error');
      return false;
    }
  }

  async function refreshUnits(): Promise<void> {
    try {
      const { answer, live } = await unitEvents.fetch(() => ctx.api.units());
      state.units = refetchedUnits(answer.items, live);
      renderBoard();
      renderMap();
      if (state.selectedId) renderDetail();
    } catch (err) {
      toast(`Could not load units: ${errorText(err)}`, 'error');
    }
  }

  async function loadMapSettings(): Promise<void> {
    try {
      const settings = await ctx.api.settings();
      state.map = settings.map;
      state.cameraSilentSeconds = settings.cameraSilentSeconds;
      renderMap();
    } catch {
      // The plain offline map stays: it needs nothing from the server.
    }
  }

  async function loadCameras(): Promise<void> {
    try {
      state.cameras = await ctx.api.cameras();
      camerasLoaded = true;
      renderMap();
      renderList();
    } catch {
      // Dispatchers may not list cameras on every deployment; the map then shows alert cameras only.
      state.cameras = [];
    }
  }

  function applyUnit(u: UnitChange): void {
    unitEvents.seen(u);
    state.units = applyUnitEvent(state.units, u);
    renderBoard();
    renderMap();
    if (state.selectedId) renderDetail();
  }

  const offAlert = ctx.realtime.onAlert((_kind, a) => {
    alertEvents.seen(a);
    const before = state.alerts.find((x) => x.id === a.id);
    const news = announcementFor(before, a);
    if (news === 'new') {
      state.fresh.add(a.id);
      if (state.sound) chime();
      // Also announced through the polite live region, for screen-reader users.
      toast(`New alert: ${a.camera.name}`);
    } else if (news === 'escalated') {
      if (a.id !== state.selectedId || document.hidden) state.escalated.add(a.id);
      if (state.sound) alarm();
      toast(`Escalated to level ${a.escalationLevel}: ${a.camera.name} — ${a.status === 'NEW' ? 'still not dispatched' : 'not acknowledged by the unit'}`, 'error');
    }
    // Away from the console (another window, another tab), the system notification is what is seen.
    if (news && pageInBackground()) void showAlertNotification(a.id, alertNotification(news, a));
    else if (!isOpen(a.status)) void closeAlertNotifications(a.id);
    applyAlert(a);
    if (news) feedWidget.announced([a.id]);
  });
  // A click on an alert's notification opens it here.
  const offOpened = onNotificationOpened((id) => {
    if (state.alerts.some((a) => a.id === id)) select(id);
  });
  const offUnit = ctx.realtime.onUnit(applyUnit);

  let first = true;
  const offConn = ctx.realtime.onConnection((st) => {
    // After a reconnect, refetch (events sent while offline are not replayed) and drop the
    // errors the outage left behind: failed images, "no connection" messages, stale panels.
    if (st === 'live' && !first) {
      void Promise.all([reload(), refreshUnits()]).then(([ok]) => {
        if (!ok) return;
        detailFor = null;
        renderDetail();
      });
    }
    first = false;
  });

  // ---- hotkeys (whole view) ------------------------------------------------
  const onKey = (ev: KeyboardEvent) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey || ev.defaultPrevented || isTyping(ev.target)) return;
    if (document.querySelector('dialog[open]:not(.help-dialog)')) return; // e.g. the sign-in-again dialog
    const inFeed = feedWidget.list.contains(ev.target as Node);
    switch (ev.key) {
      case '?':
        ev.preventDefault();
        toggleHelp();
        return;
      case 'm':
        ev.preventDefault();
        toggleSound();
        return;
      case 'f':
        ev.preventDefault();
        statusSel.focus();
        return;
      case 'j':
      case 'k':
        if (inFeed) return; // the listbox handles its own keys
        ev.preventDefault();
        feedWidget.focus();
        return;
      case 'a':
      case 'd':
      case 'n':
        if (inFeed || !state.selectedId) return;
        ev.preventDefault();
        if (ev.key === 'a') openAssign(true);
        else if (ev.key === 'd') openDismiss();
        else focusNote();
        return;
    }
  };
  document.addEventListener('keydown', onKey);

  // Open the alert named in the URL (#/dispatch?alert=ID), e.g. from the admin's history.
  const fromHash = () => {
    const id = hashDetail(location.hash).query.get('alert');
    if (id && id !== state.selectedId && state.alerts.some((a) => a.id === id)) select(id, false);
  };
  window.addEventListener('maskwatch:hash', fromHash);

  // Ages (open for, position reported) follow the clock.
  const ticker = setInterval(() => {
    renderList();
    renderBoard();
  }, 15_000);

  replaceChildren(root, h('h1', { class: 'sr-only' }, 'Dispatch'), feed, detail, side);
  renderSound();
  renderList();
  renderDetail();
  renderBoard();
  renderMap();
  void Promise.all([reload().then(fromHash), refreshUnits(), loadCameras(), loadMapSettings()]);
  // Units arrive live (unit.updated); a slow poll only guards against a missed event.
  const unitPoll = setInterval(() => void refreshUnits(), 120_000);
  // Cameras' last frames (silent cameras on the map) are not pushed: a minute's poll keeps them current.
  const cameraPoll = setInterval(() => void loadCameras(), 60_000);

  return () => {
    offAlert();
    offUnit();
    offConn();
    offUnlocked();
    offOpened();
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('maskwatch:hash', fromHash);
    clearInterval(ticker);
    clearInterval(unitPoll);
    clearInterval(cameraPoll);
    if (help.open) help.close();
  };
};
