/**
 * Admin view: violation history (search, paging, Export CSV), statistics charts,
 * camera management (key shown once, rotate, disable), zones (who sees which, rename), patrol units, users,
 * the webhook delivery log, the audit trail and the deployment checks.
 */
import type { MountView, ViewContext } from '../context.ts';
import { h, replaceChildren } from '../dom.ts';
import { hashDetail } from '../session.ts';
import { auditPanel } from './admin/audit.ts';
import { camerasPanel } from './admin/cameras.ts';
import { historyPanel } from './admin/history.ts';
import { reviewPanel } from './admin/review.ts';
import { statsPanel } from './admin/stats.ts';
import { systemPanel } from './admin/system.ts';
import { unitsPanel } from './admin/units.ts';
import { usersPanel } from './admin/users.ts';
import { webhooksPanel } from './admin/webhooks.ts';
import { zonesPanel } from './admin/zones.ts';

type Tab = { id: string; label: string; build: (ctx: ViewContext) => HTMLElement };

export const mountAdmin: MountView = (root, ctx) => {
  const tabs: Tab[] = [
    { id: 'history', label: 'Violations', build: historyPanel },
    { id: 'review', label: 'Closed incidents', build: reviewPanel },
    { id: 'stats', label: 'Statistics', build: statsPanel },
    { id: 'cameras', label: 'Cameras', build: camerasPanel },
    { id: 'zones', label: 'Zones', build: zonesPanel },
    { id: 'units', label: 'Units', build: unitsPanel },
    { id: 'users', label: 'Users', build: usersPanel },
    { id: 'webhooks', label: 'Webhooks', build: webhooksPanel },
    { id: 'audit', label: 'Audit', build: auditPanel },
    { id: 'system', label: 'System', build: systemPanel },
  ];
  const tablist = h('div', { role: 'tablist', 'aria-label': 'Administration', class: 'tabs' });
  const panelHost = h('div', { class: 'tab-host' });
  const buttons = tabs.map((t, i) =>
    h('button', { type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': `panel-${t.id}`, 'aria-selected': 'false', tabindex: -1, 'data-index': i }, t.label),
  );
  let shown = -1;
  function show(i: number, focus = false): void {
    // The tab is part of the URL (#/admin/stats), so a reload or a link keeps it.
    const want = `#/admin/${tabs[i]!.id}`;
    if (!location.hash.startsWith(want)) history.replaceState(null, '', want);
    if (i === shown) {
      if (focus) buttons[i]!.focus();
      return;
    }
    shown = i;
    buttons.forEach((b, j) => {
      b.setAttribute('aria-selected', String(i === j));
      b.tabIndex = i === j ? 0 : -1;
    });
    const t = tabs[i]!;
    const panel = h('div', { role: 'tabpanel', id: `panel-${t.id}`, 'aria-labelledby': `tab-${t.id}`, class: 'tabpanel' }, t.build(ctx));
    replaceChildren(panelHost, panel);
    if (focus) buttons[i]!.focus();
  }
  buttons.forEach((b, i) => {
    b.addEventListener('click', () => show(i));
    // Arrow keys move between tabs (WAI-ARIA tabs pattern).
    b.addEventListener('keydown', (ev) => {
      const k = (ev as KeyboardEvent).key;
      if (k === 'ArrowRight' || k === 'ArrowLeft' || k === 'Home' || k === 'End') {
        ev.preventDefault();
        const n = tabs.length;
        show(k === 'Home' ? 0 : k === 'End' ? n - 1 : (i + (k === 'ArrowRight' ? 1 : n - 1)) % n, true);
      }
    });
  });
  tablist.append(...buttons);
  replaceChildren(root, h('section', { class: 'panel admin' }, h('h1', {}, 'Administration'), tablist, panelHost));
  const fromHash = () => {
    const id = hashDetail(location.hash).path[0];
    const i = tabs.findIndex((t) => t.id === id);
    // A link to the tab already shown (e.g. another alert to review) rebuilds it.
    if (i === shown) shown = -1;
    show(i < 0 ? 0 : i);
  };
  fromHash();
  window.addEventListener('maskwatch:hash', fromHash);
  return () => window.removeEventListener('maskwatch:hash', fromHash);
};
