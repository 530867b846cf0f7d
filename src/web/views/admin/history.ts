/** Admin › Violations: history search with paging and Export CSV. */
import { ALERT_STATUSES, isOpen, statusLabel } from '../../alert-list.ts';
import type { Violation } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, option, replaceChildren, saveBlob, toast } from '../../dom.ts';
import { formatDateTime, formatModelScore, localInputToIso } from '../../format.ts';
import { authImage } from '../../images.ts';
import { errorText, PERSON_LABEL_TEXT, statusBadge, zonesOfCameras } from '../common.ts';

const COLUMNS = ['Face', 'Captured', 'Camera', 'Zone', 'Violation', 'Face score', 'Status', 'Alert'];

/**
 * What the violation is: its person's label, with the model's P(no mask) only for no mask (beside "Mask worn
 * incorrectly" a low score reads as a weak alert), and whether the person was marked a false positive.
 */
function violationCell(v: Violation): HTMLElement {
  const what = v.label === 'mask_incorrect' ? PERSON_LABEL_TEXT.mask_incorrect : `${PERSON_LABEL_TEXT.no_mask} · ${formatModelScore(v.noMaskProbability)}`;
  return h('td', {}, what, ...(v.falsePositive ? [' ', h('span', { class: 'badge', title: 'This person was marked a false positive' }, 'False positive')] : []));
}

export function historyPanel(ctx: ViewContext): HTMLElement {
  const camera = h('select', { name: 'cameraId' }, option('', 'All cameras'));
  // The zones cameras have (the filter matches a zone exactly: typed, "centro" found nothing for "Centro").
  const zone = h('select', { name: 'zone' }, option('', 'All zones'));
  const from = h('input', { name: 'from', type: 'datetime-local' });
  const to = h('input', { name: 'to', type: 'datetime-local' });
  const status = h('select', { name: 'status' }, option('', 'Any status'), ...ALERT_STATUSES.map((s) => option(s, statusLabel(s))));
  const size = h('select', { name: 'limit' }, option('25', '25'), option('50', '50', true), option('100', '100'));
  const tbody = h('tbody');
  const info = h('p', { class: 'muted small', role: 'status' });
  const prev = h('button', { type: 'button', class: 'btn' }, 'Previous page');
  const next = h('button', { type: 'button', class: 'btn' }, 'Next page');
  const exportBtn = h('button', { type: 'button', class: 'btn btn-primary' }, 'Export CSV');
  const cursors: (string | null)[] = [null]; // cursor of each page visited
  let page = 0;
  let nextCursor: string | null = null;
  void ctx.api.cameras().then(
    (cams) => {
      for (const c of cams) camera.append(option(c.id, c.name));
      for (const z of zonesOfCameras(cams)) zone.append(option(z, z));
    },
    () => undefined,
  );

  const filters = () => ({
    cameraId: camera.value || undefined,
    zone: zone.value || undefined,
    from: localInputToIso(from.value),
    to: localInputToIso(to.value),
    status: status.value || undefined,
  });

  async function load(): Promise<void> {
    info.textContent = 'Loading…';
    try {
      const res = await ctx.api.violations({ ...filters(), limit: Number(size.value), cursor: cursors[page] ?? undefined });
      nextCursor = res.nextCursor;
      replaceChildren(tbody, ...res.items.map((v) => row(v)));
      if (!res.items.length) tbody.append(h('tr', {}, h('td', { colspan: COLUMNS.length, class: 'muted' }, 'No violations match these filters.')));
      info.textContent = `Page ${page + 1} · ${res.items.length} violation${res.items.length === 1 ? '' : 's'}`;
      prev.disabled = page === 0;
      next.disabled = !nextCursor;
    } catch (err) {
      info.textContent = `Search failed: ${errorText(err)}`;
    }
  }
  function row(v: Violation): HTMLElement {
    const alertCell = !v.alertId
      ? '–'
      : h(
          'a',
          // Open alerts are worked in the dispatch view; closed ones are reviewed with their timeline.
          v.alertStatus && isOpen(v.alertStatus)
            ? { href: `#/dispatch?alert=${encodeURIComponent(v.alertId)}`, 'aria-label': `Open in Dispatch: the alert of ${formatDateTime(v.capturedAt)}` }
            : { href: `#/admin/review?alert=${encodeURIComponent(v.alertId)}`, 'aria-label': `Review: the alert of ${formatDateTime(v.capturedAt)}` },
          v.alertStatus && isOpen(v.alertStatus) ? 'Open in Dispatch' : 'Review',
        );
    return h(
      'tr',
      {},
      h('td', {}, authImage(ctx.api, v.snapshotUrl, `Face at ${v.camera.name}, ${formatDateTime(v.capturedAt)}`, 'thumb')),
      h('td', {}, formatDateTime(v.capturedAt)),
      h('td', {}, v.camera.name),
      h('td', {}, v.camera.zone ?? '–'),
      violationCell(v),
      h('td', { class: 'num' }, formatModelScore(v.faceScore)),
      h('td', {}, v.alertStatus ? statusBadge(v.alertStatus) : '–'),
      h('td', {}, alertCell),
    );
  }
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Search violations' },
    field('Camera', camera),
    field('Zone', zone),
    field('From', from),
    field('To', to),
    field('Status', status),
    field('Per page', size),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    cursors.length = 1;
    page = 0;
    void load();
  });
  prev.addEventListener('click', () => {
    if (page > 0) {
      page -= 1;
      void load();
    }
  });
  next.addEventListener('click', () => {
    if (!nextCursor) return;
    cursors[page + 1] = nextCursor;
    page += 1;
    void load();
  });
  exportBtn.addEventListener('click', () => {
    exportBtn.disabled = true;
    void ctx.api
      .violationsCsv(filters())
      .then((blob) => saveBlob(blob, `violations-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`))
      .catch((err) => toast(`Export failed: ${errorText(err)}`, 'error'))
      .finally(() => {
        exportBtn.disabled = false;
      });
  });
  void load();
  return h(
    'div',
    {},
    h('h2', {}, 'Violation history'),
    form,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'aria-label': 'Violations' }, h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)))), tbody)),
    h('div', { class: 'pager' }, prev, info, next, h('span', { class: 'spacer' }), exportBtn),
  );
}
