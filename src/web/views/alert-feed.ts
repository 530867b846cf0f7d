/**
 * The dispatcher's live feed as one keyboard widget (WAI-ARIA listbox with a
 * roving tabindex): Tab enters the list once and leaves it once, whatever its
 * length; j/k or the arrows move, Enter opens, a assigns, d dismisses.
 *
 * Updated in place, keyed by alert id: an event or the clock re-renders only the
 * cards whose content changed and moves nodes only when the order changed, so
 * keyboard focus and the scroll position survive. When the list is scrolled,
 * alerts that arrive above the visible part are counted in a "N new alerts"
 * button instead of pushing the content down.
 */
import type { AlertEvent } from '../../realtime/events.ts';
import { isOpen } from '../alert-list.ts';
import { h, replaceChildren } from '../dom.ts';
import { moveIndex } from '../feed-order.ts';
import { formatAgo, formatClock, formatCoord, formatElapsed } from '../format.ts';
import { maskedText, peopleText, statusBadge, verdictText } from './common.ts';

export interface FeedCallbacks {
  open(id: string): void;
  assign(id: string): void;
  dismiss(id: string): void;
  note(id: string): void;
  unitName(id: string | null): string | null;
}

export interface FeedRender {
  /** In display order. */
  alerts: readonly AlertEvent[];
  selectedId: string | null;
  /** Arrived since the dispatcher last looked at them ("Incoming"). */
  fresh: ReadonlySet<string>;
  /** Escalated and not yet opened. */
  escalated: ReadonlySet<string>;
  emptyText: string;
  now: number;
}

export interface AlertFeed {
  /** The panel part: the "new alerts" button and the list. */
  el: HTMLElement;
  list: HTMLUListElement;
  update(r: FeedRender): void;
  /** Marks alerts as just announced: counted in the indicator when they land above the visible part. */
  announced(ids: readonly string[]): void;
  /** Moves focus to an alert's card (or the active one), without scrolling the page. */
  focus(id?: string | null): boolean;
  /** The alert the list's tab stop is on. */
  activeId(): string | null;
}

/** Open: how long it has been waiting (what orders the queue); closed: when it was last seen. */
function age(a: AlertEvent, now: number): string {
  if (!isOpen(a.status)) return formatAgo(a.lastSeenAt, now);
  const t = Date.parse(a.createdAt);
  return Number.isNaN(t) ? '–' : `open ${formatElapsed(Math.max(0, (now - t) / 1000))}`;
}

/** Card content: one line per fact. An incident's people list goes in as its own `.alert-people` line. */
function cardContent(a: AlertEvent, r: FeedRender, cb: FeedCallbacks): (HTMLElement | null)[] {
  const open = isOpen(a.status);
  return [
    h(
      'span',
      { class: 'alert-top' },
      statusBadge(a.status),
      r.fresh.has(a.id) ? h('span', { class: 'badge badge-new' }, 'Incoming') : null,
      a.escalationLevel > 0 && open ? h('span', { class: 'badge badge-escalated' }, `Escalated ${a.escalationLevel}`) : null,
      h('time', { datetime: a.createdAt }, formatClock(a.createdAt)),
    ),
    h('span', { class: 'alert-camera' }, a.camera.name),
    h('span', { class: 'alert-meta' }, [a.camera.zone, a.camera.address].filter(Boolean).join(' · ') || formatCoord(a.camera.latitude, a.camera.longitude)),
    h(
      'span',
      { class: 'alert-meta' },
      `${peopleText(a)}${verdictText(a)}${maskedText(a)} · ${a.violationCount} violation${a.violationCount === 1 ? '' : 's'} · ${age(a, r.now)}`,
      a.assignedUnitId ? ` · ${cb.unitName(a.assignedUnitId)}` : '',
      a.noteCount > 0 ? ` · ${a.noteCount} note${a.noteCount === 1 ? '' : 's'}` : '',
    ),
  ];
}

function renderKey(a: AlertEvent, r: FeedRender, cb: FeedCallbacks): string {
  return [
    a.status,
    a.escalationLevel,
    a.violationCount,
    verdictText(a),
    maskedText(a),
    peopleText(a),
    a.assignedUnitId,
    a.noteCount,
    cb.unitName(a.assignedUnitId),
    a.camera.name,
    a.camera.zone,
    a.camera.address,
    r.fresh.has(a.id),
    age(a, r.now),
  ].join('|');
}

type Item = HTMLLIElement & { _key?: string };

/** Chromium's moveBefore keeps focus and animations of a moved node; elsewhere insertBefore + refocus. */
function move(parent: Element, node: Element, before: Node | null): void {
  const p = parent as Element & { moveBefore?: (n: Node, b: Node | null) => void };
  if (typeof p.moveBefore === 'function') {
    try {
      p.moveBefore(node, before);
      return;
    } catch {
      // moveBefore refuses some cases (e.g. across documents): fall back below
    }
  }
  parent.insertBefore(node, before);
}

export function createAlertFeed(cb: FeedCallbacks): AlertFeed {
  const list = h('ul', { class: 'alert-list', role: 'listbox', 'aria-label': 'Alerts', 'aria-describedby': 'feed-keys' }) as HTMLUListElement;
  const keysHint = h('p', { id: 'feed-keys', class: 'sr-only' }, 'j and k or arrow keys move, Enter opens, a assigns, d dismisses, question mark lists all keys.');
  const newer = h('button', { type: 'button', class: 'btn btn-small new-indicator', hidden: true });
  const empty = h('li', { class: 'empty', role: 'presentation' });
  const items = new Map<string, Item>();
  let order: string[] = [];
  let active: string | null = null;
  const above = new Set<string>();

  const el = h('div', { class: 'feed-body' }, keysHint, newer, list);

  function setActive(id: string | null): void {
    active = id;
    for (const [key, li] of items) li.tabIndex = key === id ? 0 : -1;
  }

  function refreshIndicator(): void {
    // Cards now visible are seen.
    const top = list.scrollTop;
    for (const id of [...above]) {
      const li = items.get(id);
      if (!li || li.offsetTop + li.offsetHeight / 2 >= top) above.delete(id);
    }
    newer.hidden = above.size === 0;
    newer.textContent = `↑ ${above.size} new alert${above.size === 1 ? '' : 's'}`;
  }
  list.addEventListener('scroll', refreshIndicator, { passive: true });
  newer.addEventListener('click', () => {
    const first = [...above].map((id) => items.get(id)).filter((x): x is Item => !!x).sort((a, b) => a.offsetTop - b.offsetTop)[0];
    list.scrollTop = 0;
    above.clear();
    refreshIndicator();
    if (first) {
      setActive(first.dataset.alertId!);
      first.focus({ preventScroll: true });
    }
  });

  function focusIndex(i: number): void {
    const id = order[i];
    if (!id) return;
    setActive(id);
    const li = items.get(id)!;
    li.focus({ preventScroll: true });
    li.scrollIntoView({ block: 'nearest' });
  }

  list.addEventListener('keydown', (ev) => {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const li = (ev.target as Element).closest<Item>('li[data-alert-id]');
    const id = li?.dataset.alertId ?? active;
    const k = ev.key;
    if (['j', 'k', 'ArrowDown', 'ArrowUp', 'Home', 'End', 'PageDown', 'PageUp'].includes(k)) {
      ev.preventDefault();
      focusIndex(moveIndex(id ? order.indexOf(id) : -1, k, order.length));
    } else if ((k === 'Enter' || k === ' ') && id) {
      ev.preventDefault();
      cb.open(id);
    } else if (k === 'a' && id) {
      ev.preventDefault();
      cb.assign(id);
    } else if (k === 'd' && id) {
      ev.preventDefault();
      cb.dismiss(id);
    } else if (k === 'n' && id) {
      ev.preventDefault();
      cb.note(id);
    }
  });
  list.addEventListener('focusin', (ev) => {
    const li = (ev.target as Element).closest<Item>('li[data-alert-id]');
    if (li) setActive(li.dataset.alertId!);
  });

  return {
    el,
    list,
    update(r) {
      const focused = document.activeElement instanceof HTMLElement && list.contains(document.activeElement) ? document.activeElement : null;
      // Scroll anchor: the first card at least half visible keeps its place on screen.
      let anchor: { id: string; offset: number } | null = null;
      if (list.scrollTop > 0) {
        for (const id of order) {
          const li = items.get(id)!;
          if (li.offsetTop + li.offsetHeight / 2 >= list.scrollTop) {
            anchor = { id, offset: li.offsetTop - list.scrollTop };
            break;
          }
        }
      }
      const next = r.alerts.map((a) => a.id);
      const keep = new Set(next);
      for (const [id, li] of items) {
        if (!keep.has(id)) {
          li.remove();
          items.delete(id);
          above.delete(id);
        }
      }
      empty.remove();
      let cursor: ChildNode | null = list.firstChild;
      for (const a of r.alerts) {
        let li = items.get(a.id);
        if (!li) {
          li = h('li', { class: 'alert-item', role: 'option', 'data-alert-id': a.id, tabindex: -1 }) as Item;
          li.addEventListener('click', () => {
            setActive(a.id);
            cb.open(a.id);
          });
          items.set(a.id, li);
        }
        const key = renderKey(a, r, cb);
        if (li._key !== key) {
          li._key = key;
          replaceChildren(li, ...cardContent(a, r, cb));
        }
        const selected = a.id === r.selectedId;
        li.className = `alert-item status-${a.status}${r.fresh.has(a.id) ? ' is-new' : ''}${selected ? ' is-selected' : ''}${r.escalated.has(a.id) ? ' is-escalated' : ''}`;
        li.setAttribute('aria-selected', String(selected));
        if (li === cursor) cursor = li.nextSibling;
        else move(list, li, cursor);
      }
      order = next;
      if (!order.length) {
        empty.textContent = r.emptyText;
        list.append(empty);
      }
      // One tab stop: the card that had it, else the selected one, else the first.
      const stop = active && keep.has(active) ? active : r.selectedId && keep.has(r.selectedId) ? r.selectedId : (order[0] ?? null);
      setActive(stop);
      if (focused && !focused.isConnected && stop) items.get(stop)?.focus({ preventScroll: true });
      else if (focused && document.activeElement !== focused && focused.isConnected) focused.focus({ preventScroll: true });
      if (anchor && items.has(anchor.id)) list.scrollTop = items.get(anchor.id)!.offsetTop - anchor.offset;
      refreshIndicator();
    },
    announced(ids) {
      for (const id of ids) {
        const li = items.get(id);
        if (li && list.scrollTop > 0 && li.offsetTop + li.offsetHeight / 2 < list.scrollTop) above.add(id);
      }
      refreshIndicator();
    },
    focus(id) {
      const target = id ?? active ?? order[0];
      const li = target ? items.get(target) : undefined;
      if (!li) return false;
      setActive(target!);
      li.focus({ preventScroll: true });
      li.scrollIntoView({ block: 'nearest' });
      return true;
    },
    activeId: () => active,
  };
}
