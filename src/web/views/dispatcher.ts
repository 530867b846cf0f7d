/**
 * Dispatcher view: live alert feed, alert detail with Assign / Dismiss, unit
 * status board and an offline camera map.
 */
import type { AlertEvent } from '../../realtime/events.ts';
import { filterAlerts, isOpen, mergeAlerts, pruneAlerts, upsertAlert } from '../alert-list.ts';
import { ApiError, type Camera, type MapSettings, type SuggestedUnit, type Unit } from '../api.ts';
import type { MountView } from '../context.ts';
import { field, h, replaceChildren, toast } from '../dom.ts';
import { formatAgo, formatClock, formatCoord, formatDateTime, formatDistance, formatPercent, mapsUrl } from '../format.ts';
import { authImage } from '../images.ts';
import { createEvidenceViewer } from './evidence-viewer.ts';
import { chime } from '../sound.ts';
import { allowedActions } from '../workflow.ts';
import { cameraMap } from './camera-map.ts';
import { unitBoardRows } from './unit-board.ts';
import { timelineItems } from './alert-timeline.ts';
import { errorText, statusBadge } from './common.ts';

/** Closed alerts kept in the feed; open ones are always kept. */
const MAX_CLOSED_KEPT = 200;

interface State {
  alerts: AlertEvent[];
  fresh: Set<string>;
  selectedId: string | null;
  openOnly: boolean;
  sound: boolean;
  units: Unit[];
  cameras: Camera[];
  /** Tile server, when configured; the plain map until loaded or when not. */
  map: MapSettings | null;
}

export const mountDispatcher: MountView = (root, ctx) => {
  const state: State = {
    alerts: [],
    fresh: new Set(),
    selectedId: null,
    openOnly: true,
    sound: localStorage.getItem('maskwatch.sound') === 'on',
    units: [],
    cameras: [],
    map: null,
  };
  const unitName = (id: string | null) => (id ? (state.units.find((u) => u.id === id)?.callSign ?? 'unit') : null);

  // ---- feed -------------------------------------------------------------
  const list = h('ul', { class: 'alert-list', 'aria-label': 'Alerts' });
  const count = h('span', { class: 'count', role: 'status' });
  const openOnly = h('input', { type: 'checkbox', id: 'open-only' });
  openOnly.checked = state.openOnly;
  openOnly.addEventListener('change', () => {
    state.openOnly = openOnly.checked;
    renderList();
  });
  const soundBtn = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': String(state.sound) }, 'Sound');
  soundBtn.addEventListener('click', () => {
    state.sound = !state.sound;
    soundBtn.setAttribute('aria-pressed', String(state.sound));
    localStorage.setItem('maskwatch.sound', state.sound ? 'on' : 'off');
    if (state.sound) chime();
  });
  const feed = h(
    'section',
    { class: 'panel feed', 'aria-labelledby': 'feed-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'feed-title' }, 'Live alerts'), count, h('div', { class: 'toolbar' }, h('label', { for: 'open-only', class: 'check' }, openOnly, ' Open only'), soundBtn)),
    list,
  );

  function renderList(): void {
    const shown = filterAlerts(state.alerts, { openOnly: state.openOnly });
    const open = state.alerts.filter((a) => isOpen(a.status)).length;
    count.textContent = `${open} open`;
    const now = Date.now();
    replaceChildren(
      list,
      ...shown.map((a) => {
        const selected = a.id === state.selectedId;
        const btn = h(
          'button',
          {
            type: 'button',
            class: `alert-item status-${a.status}${state.fresh.has(a.id) ? ' is-new' : ''}${selected ? ' is-selected' : ''}`,
            'aria-current': selected ? 'true' : null,
            'data-alert-id': a.id,
            onclick: () => select(a.id),
          },
          h('span', { class: 'alert-top' }, statusBadge(a.status), state.fresh.has(a.id) ? h('span', { class: 'badge badge-new' }, 'Incoming') : null, a.escalationLevel > 0 && isOpen(a.status) ? h('span', { class: 'badge badge-escalated' }, `Escalated ${a.escalationLevel}`) : null, h('time', { datetime: a.createdAt }, formatClock(a.createdAt))),
          h('span', { class: 'alert-camera' }, a.camera.name),
          h('span', { class: 'alert-meta' }, [a.camera.zone, a.camera.address].filter(Boolean).join(' · ') || formatCoord(a.camera.latitude, a.camera.longitude)),
          h(
            'span',
            { class: 'alert-meta' },
            `${a.people.length > 0 ? `${a.people.length} ${a.people.length === 1 ? 'person' : 'people'} · ` : ''}${formatPercent(a.maskProbability)} no mask · ${a.violationCount} violation${a.violationCount === 1 ? '' : 's'} · ${formatAgo(a.lastSeenAt, now)}`,
            a.assignedUnitId ? ` · ${unitName(a.assignedUnitId)}` : '',
          ),
        );
        return h('li', {}, btn);
      }),
    );
    if (!shown.length) list.append(h('li', { class: 'empty' }, state.openOnly ? 'No open alerts.' : 'No alerts yet.'));
  }

  // ---- detail -----------------------------------------------------------
  const detail = h('section', { class: 'panel detail', 'aria-labelledby': 'detail-title' });
  let detailFor: string | null = null;
  let refreshDetail: (a: AlertEvent) => void = () => undefined;

  function select(id: string): void {
    state.selectedId = id;
    state.fresh.delete(id);
    renderList();
    renderDetail();
    list.querySelector<HTMLButtonElement>(`[data-alert-id="${CSS.escape(id)}"]`)?.focus();
  }

  function renderDetail(): void {
    const alert = state.alerts.find((a) => a.id === state.selectedId);
    if (!alert) {
      detailFor = null;
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
    assignBtn.addEventListener('click', () => {
      const open = assignPanel.hidden;
      assignPanel.hidden = !open;
      assignBtn.setAttribute('aria-expanded', String(open));
      dismissPanel.hidden = true;
      dismissBtn.setAttribute('aria-expanded', 'false');
      if (open) void loadSuggestions(alert.id, assignPanel);
    });

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
    dismissBtn.addEventListener('click', () => {
      const open = dismissPanel.hidden;
      dismissPanel.hidden = !open;
      dismissBtn.setAttribute('aria-expanded', String(open));
      assignPanel.hidden = true;
      assignBtn.setAttribute('aria-expanded', 'false');
      if (open) reason.focus();
    });
    dismissForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = reason.value.trim();
      if (!text) {
        reason.focus();
        return;
      }
      void act(() => ctx.api.alertAction(alert.id, 'dismiss', { reason: text }), 'Alert dismissed').then((ok) => {
        if (ok) {
          reason.value = '';
          dismissPanel.hidden = true;
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
        ['Confidence (no mask)', formatPercent(a.maskProbability)],
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
          replaceChildren(
            images,
            h('figure', {}, authImage(ctx.api, a.snapshotUrl, `Face snapshot at ${a.camera.name}`, 'snapshot snapshot-face'), h('figcaption', {}, 'Face')),
            h('figure', { class: 'wide' }, authImage(ctx.api, a.frameSnapshotUrl, `Annotated frame from ${a.camera.name}`, 'snapshot snapshot-frame'), h('figcaption', {}, 'Annotated frame')),
          );
        }
      }
      const tk = `${a.status}|${a.assignedUnitId}`;
      if (tk !== timelineKey) {
        timelineKey = tk;
        loadTimeline(a);
      }
      const allowed = allowedActions(a, ctx.session.user);
      assignBtn.disabled = !allowed.has('dispatch');
      assignBtn.textContent = a.assignedUnitId ? 'Reassign' : 'Assign';
      assignBtn.setAttribute('aria-label', a.assignedUnitId ? 'Assign another unit' : 'Assign');
      dismissBtn.disabled = !allowed.has('dismiss');
      if (assignBtn.disabled) assignPanel.hidden = true;
      if (dismissBtn.disabled) dismissPanel.hidden = true;
    };
    replaceChildren(
      detail,
      h('div', { class: 'panel-head' }, title, statusEl),
      images,
      facts,
      h('div', { class: 'actions' }, assignBtn, dismissBtn),
      assignPanel,
      dismissPanel,
      h('h3', { class: 'timeline-title' }, 'Timeline'),
      timeline,
    );
    refreshDetail(alert);
  }

  async function loadSuggestions(alertId: string, panel: HTMLElement): Promise<void> {
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
                onclick: () => void act(() => ctx.api.alertAction(alertId, 'dispatch', { unitId: s.unit.id }), `Dispatched ${s.unit.callSign}`).then((ok) => {
                  if (ok) panel.hidden = true;
                }),
              },
              'Assign',
            ),
          ),
        ),
      ),
    );
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
  const mapHost = h('div', { class: 'map-host' });
  const side = h(
    'section',
    { class: 'panel side', 'aria-label': 'Units and cameras' },
    h('h2', {}, 'Unit status'),
    h('table', { class: 'table board', 'aria-label': 'Unit status board' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Unit'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Position'), h('th', { scope: 'col' }, 'Alert'))), board),
    h('h2', {}, 'Camera map'),
    mapHost,
  );

  function renderBoard(): void {
    replaceChildren(board, ...unitBoardRows(state.units, state.alerts, Date.now()));
  }

  function renderMap(): void {
    replaceChildren(
      mapHost,
      cameraMap(state.cameras, state.units, state.alerts.filter((a) => isOpen(a.status)), state.map, (cameraId) => {
        const a = state.alerts.find((x) => x.cameraId === cameraId && isOpen(x.status));
        if (a) select(a.id);
      }),
    );
  }

  // ---- data -------------------------------------------------------------
  function applyAlert(a: AlertEvent): void {
    state.alerts = pruneAlerts(upsertAlert(state.alerts, a), MAX_CLOSED_KEPT);
    renderList();
    if (a.id === state.selectedId) renderDetail();
    renderBoard();
    renderMap();
  }

  // Alerts received live while a fetch is in flight win over the fetched copy.
  let during: AlertEvent[] | null = null;
  async function reload(): Promise<void> {
    const live: AlertEvent[] = [];
    during = live;
    try {
      const fetched = await ctx.api.openAndRecentAlerts();
      state.alerts = mergeAlerts(mergeAlerts(state.alerts, fetched), live);
      renderList();
      renderDetail();
      renderBoard();
      renderMap();
    } catch (err) {
      toast(`Could not load alerts: ${errorText(err)}`, 'error');
    } finally {
      if (during === live) during = null;
    }
  }

  async function refreshUnits(): Promise<void> {
    try {
      state.units = (await ctx.api.units()).items;
      renderBoard();
      renderMap();
      if (state.selectedId) renderDetail();
    } catch (err) {
      toast(`Could not load units: ${errorText(err)}`, 'error');
    }
  }

  async function loadMapSettings(): Promise<void> {
    try {
      state.map = (await ctx.api.settings()).map;
      renderMap();
    } catch {
      // The plain offline map stays: it needs nothing from the server.
    }
  }

  async function loadCameras(): Promise<void> {
    try {
      state.cameras = await ctx.api.cameras();
      renderMap();
    } catch {
      // Dispatchers may not list cameras on every deployment; the map then shows alert cameras only.
      state.cameras = [];
    }
  }

  // Unit statuses follow alert transitions (dispatched → busy, closed → available): refetch, coalesced.
  let unitsPending: ReturnType<typeof setTimeout> | null = null;
  const refreshUnitsSoon = () => {
    unitsPending ??= setTimeout(() => {
      unitsPending = null;
      void refreshUnits();
    }, 150);
  };
  const offAlert = ctx.realtime.onAlert((kind, a) => {
    during?.push(a);
    const before = state.alerts.find((x) => x.id === a.id);
    if (kind === 'alert.created' || !before) {
      state.fresh.add(a.id);
      if (state.sound) chime();
      // Also announced through the polite live region, for screen-reader users.
      toast(`New alert: ${a.camera.name}`);
    }
    applyAlert(a);
    if (before && (before.status !== a.status || before.assignedUnitId !== a.assignedUnitId)) refreshUnitsSoon();
  });
  let first = true;
  const offConn = ctx.realtime.onConnection((s) => {
    // After a reconnect, refetch: events sent while offline are not replayed.
    if (s === 'live' && !first) void reload();
    first = false;
  });
  const ticker = setInterval(renderList, 15_000);

  replaceChildren(root, h('h1', { class: 'sr-only' }, 'Dispatch'), feed, detail, side);
  renderList();
  renderDetail();
  renderBoard();
  void Promise.all([reload(), refreshUnits(), loadCameras(), loadMapSettings()]);
  const unitPoll = setInterval(() => void refreshUnits(), 30_000);

  return () => {
    offAlert();
    offConn();
    clearInterval(ticker);
    clearInterval(unitPoll);
    if (unitsPending) clearTimeout(unitsPending);
  };
};
