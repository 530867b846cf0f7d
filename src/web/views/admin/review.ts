/**
 * Admin › Closed incidents: the after-action review. Resolved and dismissed
 * alerts, newest first, each with its evidence (the people, numbered on the
 * frame, with their crops over time and any false-positive marks), facts, response times and the
 * full timeline (who did what, when, with notes and dismissal reasons), who viewed its evidence, and its
 * evidence hold (kept past retention, with a reason), its evidence package, and a case package of several incidents.
 * `#/admin/review?alert=ID` opens one directly (links from the violation history).
 */
import type { AlertEvent } from '../../../realtime/events.ts';
import { OUTCOME_LABELS } from '../../alert-list.ts';
import type { EvidenceHold, TimelineEntry, Unit } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, option, replaceChildren } from '../../dom.ts';
import { formatClock, formatDateTime, formatDuration, formatModelScore } from '../../format.ts';
import { authImage } from '../../images.ts';
import { hashDetail } from '../../session.ts';
import { timelineItems } from '../alert-timeline.ts';
import { alertEvidence } from '../evidence-viewer.ts';
import { errorText, statusBadge } from '../common.ts';
import { evidenceAccessSection } from './evidence-access.ts';
import { evidenceHoldSection } from './evidence-hold.ts';
import { evidencePackageSection } from './evidence-package.ts';
import { casePackage } from './case-package.ts';

type ClosedStatus = 'RESOLVED' | 'DISMISSED';
const PAGE = 50;

/**
 * Response times of one incident, each labelled with what it measures, as Admin › Statistics
 * measures them: acknowledging from the dispatch (the unit's reaction), everything else from the
 * alert being raised. First occurrence of each step; the acknowledgement counts from the dispatch
 * just before it (a reassignment restarts the unit's clock).
 */
export function responseMilestones(alert: Pick<AlertEvent, 'createdAt'>, entries: readonly TimelineEntry[]): [string, number][] {
  const raised = Date.parse(alert.createdAt);
  const first = (action: string) => entries.find((x) => x.action === action);
  const out: [string, number][] = [];
  const add = (label: string, from: number, e: TimelineEntry | undefined) => {
    if (e && Number.isFinite(from)) out.push([label, (Date.parse(e.at) - from) / 1000]);
  };
  add('Raised → dispatched', raised, first('alert.dispatch'));
  const ack = first('alert.acknowledge');
  if (ack) {
    const dispatches = entries.filter((x) => x.action === 'alert.dispatch' && Date.parse(x.at) <= Date.parse(ack.at));
    const lastDispatch = dispatches[dispatches.length - 1];
    if (lastDispatch) add('Dispatched → acknowledged', Date.parse(lastDispatch.at), ack);
  }
  add('Raised → on scene', raised, first('alert.on_scene'));
  add('Raised → resolved', raised, first('alert.resolve'));
  add('Raised → dismissed', raised, first('alert.dismiss'));
  return out;
}

/** The list's filter value that shows the incidents on evidence hold instead of a status. */
const HELD = 'HELD';

export function reviewPanel(ctx: ViewContext): HTMLElement {
  const status = h(
    'select',
    { name: 'status' },
    option('', 'Resolved and dismissed'),
    option('RESOLVED', 'Resolved'),
    option('DISMISSED', 'Dismissed'),
    option(HELD, 'On evidence hold'),
  );
  const list = h('ul', { class: 'review-list', 'aria-label': 'Closed incidents' });
  const info = h('p', { class: 'muted small', role: 'status' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  const detail = h('section', { class: 'review-detail', 'aria-label': 'Incident review' }, h('p', { class: 'muted placeholder' }, 'Select a closed incident to review it.'));
  let alerts: AlertEvent[] = [];
  let cursors: Partial<Record<ClosedStatus, string | null>> = {};
  let units: Unit[] = [];
  /** Incidents whose evidence is kept past retention, by alert id. */
  let holds = new Map<string, EvidenceHold>();
  let reviewDays = 90;
  let selected: string | null = hashDetail(location.hash).query.get('alert');
  const theCase = casePackage(ctx);
  void ctx.api.units().then(
    (r) => {
      units = r.items;
    },
    () => undefined,
  );
  const unitName = (id: string | null) => (id ? (units.find((u) => u.id === id)?.callSign ?? 'a unit') : null);

  const wanted = (): ClosedStatus[] => (status.value ? [status.value as ClosedStatus] : ['RESOLVED', 'DISMISSED']);

  /**
   * Every incident on hold, whatever its age or status, those due for review first: where the "review due"
   * alert sends an admin (the closed-incident pages would show an old one only after many "Load more").
   */
  async function loadHeld(): Promise<void> {
    await loadHolds();
    const held = await Promise.all([...holds.keys()].map((id) => ctx.api.alert(id)));
    const due = (a: AlertEvent) => (holds.get(a.id)?.reviewDue ? 0 : 1);
    alerts = held.sort((a, b) => due(a) - due(b) || (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
    more.hidden = true;
    const dueCount = [...holds.values()].filter((x) => x.reviewDue).length;
    info.textContent = `${alerts.length} incident${alerts.length === 1 ? '' : 's'} on evidence hold${dueCount ? `, ${dueCount} due for review` : ''}`;
  }

  async function load(reset: boolean): Promise<void> {
    if (reset) {
      alerts = [];
      cursors = {};
    }
    info.textContent = 'Loading…';
    if (status.value === HELD) {
      try {
        await loadHeld();
        renderList();
        if (selected) void show(selected);
      } catch (err) {
        info.textContent = `Could not load: ${errorText(err)}`;
      }
      return;
    }
    try {
      const todo = wanted().filter((s) => reset || cursors[s]);
      const [pages] = await Promise.all([Promise.all(todo.map((s) => ctx.api.alerts({ status: s, limit: PAGE, cursor: cursors[s] ?? undefined }))), loadHolds()]);
      todo.forEach((s, i) => (cursors[s] = pages[i]!.nextCursor));
      const byId = new Map(alerts.map((a) => [a.id, a]));
      for (const p of pages) for (const a of p.items) byId.set(a.id, a);
      alerts = [...byId.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
      more.hidden = !wanted().some((s) => cursors[s]);
      info.textContent = `${alerts.length} closed incident${alerts.length === 1 ? '' : 's'}`;
      renderList();
      if (selected) void show(selected);
    } catch (err) {
      info.textContent = `Could not load: ${errorText(err)}`;
    }
  }

  const holdBadge = (hold: EvidenceHold | undefined) =>
    !hold ? null : hold.reviewDue ? h('span', { class: 'badge badge-hold-due' }, 'Hold review due') : h('span', { class: 'badge badge-hold' }, 'On hold');

  async function loadHolds(): Promise<void> {
    const list = await ctx.api.evidenceHolds();
    holds = new Map(list.items.map((x) => [x.alertId, x]));
    reviewDays = list.reviewDays;
  }

  /** The incident's hold section; after a hold or a release, it and the list's badge are redrawn, nothing else. */
  function holdSection(id: string): HTMLElement {
    const section = evidenceHoldSection(ctx, id, holds.get(id) ?? null, reviewDays, () => {
      void (status.value === HELD ? loadHeld() : loadHolds()).then(() => {
        renderList();
        if (section.isConnected) section.replaceWith(holdSection(id));
      });
    });
    return section;
  }

  function renderList(): void {
    replaceChildren(
      list,
      ...alerts.map((a) =>
        h(
          'li',
          {},
          h(
            'button',
            { type: 'button', 'data-alert-id': a.id, 'aria-current': a.id === selected ? 'true' : null, onclick: () => void show(a.id) },
            authImage(ctx.api, a.snapshotUrl, `Face at ${a.camera.name}`, 'thumb'),
            h(
              'span',
              {},
              h('span', { class: 'alert-top' }, statusBadge(a.status), a.escalationLevel > 0 ? h('span', { class: 'badge badge-escalated' }, `Escalated ${a.escalationLevel}`) : null, holdBadge(holds.get(a.id)), h('time', { datetime: a.createdAt }, formatDateTime(a.createdAt))),
              h('span', { class: 'alert-camera' }, a.camera.name),
              h('span', { class: 'alert-meta' }, [a.camera.zone, a.assignedUnitId ? unitName(a.assignedUnitId) : null, a.resolutionOutcome ? OUTCOME_LABELS[a.resolutionOutcome] : null].filter(Boolean).join(' · ') || '–'),
            ),
          ),
        ),
      ),
    );
    if (!alerts.length) list.append(h('li', { class: 'empty' }, 'No closed incidents yet.'));
  }

  async function show(id: string): Promise<void> {
    selected = id;
    history.replaceState(null, '', `#/admin/review?alert=${encodeURIComponent(id)}`);
    for (const b of list.querySelectorAll('button[data-alert-id]')) b.setAttribute('aria-current', String(b.getAttribute('data-alert-id') === id));
    const a = alerts.find((x) => x.id === id);
    const timeline = h('ol', { class: 'timeline', 'aria-label': 'Timeline' });
    const times = h('dl', { class: 'facts' });
    replaceChildren(
      detail,
      h('h3', { class: 'detail-title' }, a ? a.camera.name : 'Alert'),
      a
        ? h('div', { class: 'snapshots' }, ...alertEvidence(ctx.api, a))
        : h('p', { class: 'muted' }, 'This alert is not among the closed incidents listed (it may still be open, or older than the pages loaded). Its timeline:'),
      a
        ? h(
            'dl',
            { class: 'facts' },
            ...(
              [
                ['Status', statusBadge(a.status)],
                ...(a.resolutionOutcome ? [['Outcome', OUTCOME_LABELS[a.resolutionOutcome]]] : []),
                ['Camera', a.camera.name],
                ['Address', a.camera.address ?? '–'],
                ['Zone', a.camera.zone ?? '–'],
                ['Raised', formatDateTime(a.createdAt)],
                ['Last seen', formatDateTime(a.lastSeenAt)],
                ['Model score (no mask)', formatModelScore(a.noMaskProbability)],
                ['Violations', String(a.violationCount)],
                ['Escalation', a.escalationLevel > 0 ? `Level ${a.escalationLevel}` : 'None'],
                ['Unit', unitName(a.assignedUnitId) ?? '–'],
              ] as [string, Node | string][]
            ).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
          )
        : null,
      h('h4', { class: 'timeline-title' }, 'Response times'),
      times,
      h('h4', { class: 'timeline-title' }, 'Timeline'),
      timeline,
      holdSection(id),
      evidencePackageSection(ctx, id, theCase.toggleFor(id, a ?? null)),
      evidenceAccessSection(ctx, id, a ?? null),
    );
    try {
      const t = await ctx.api.timeline(id);
      if (selected !== id) return;
      const base = a ?? ({ createdAt: t.items[0]?.at ?? new Date().toISOString() } as AlertEvent);
      replaceChildren(timeline, ...(a ? timelineItems(a, t.items, unitName) : t.items.map((e) => h('li', {}, h('time', { datetime: e.at }, formatClock(e.at)), h('span', {}, e.action)))));
      const ms = responseMilestones(base, t.items);
      replaceChildren(times, ...(ms.length ? ms.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, formatDuration(v))]) : [h('dd', { class: 'muted' }, 'No response steps recorded.')]));
    } catch (err) {
      replaceChildren(timeline, h('li', { class: 'form-error' }, errorText(err)));
    }
  }

  status.addEventListener('change', () => void load(true));
  more.addEventListener('click', () => void load(false));
  void load(true);
  return h(
    'div',
    {},
    h('h2', {}, 'Closed incidents'),
    h('form', { class: 'filters', 'aria-label': 'Filter closed incidents', onsubmit: (ev: Event) => ev.preventDefault() }, field('Show', status)),
    theCase.section,
    h('div', { class: 'review' }, h('div', {}, list, h('div', { class: 'pager' }, info, more)), detail),
  );
}
