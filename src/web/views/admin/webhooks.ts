/** Admin › Webhooks: the delivery log (every attempt to the control room's systems), newest first. */
import type { WebhookDelivery } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, option, replaceChildren } from '../../dom.ts';
import { formatDateTime } from '../../format.ts';
import { errorText } from '../common.ts';

const PAGE = 50;

function row(d: WebhookDelivery): HTMLElement {
  const result = d.outcome === 'delivered' ? `HTTP ${d.status}` : `${d.error ?? 'failed'}${d.willRetry ? ' — will retry' : ''}`;
  return h(
    'tr',
    { class: d.outcome === 'failed' ? 'is-failed' : '' },
    h('td', {}, formatDateTime(d.at)),
    h('th', { scope: 'row' }, d.target),
    h('td', {}, d.event),
    h('td', { class: 'num' }, String(d.attempt)),
    h('td', {}, h('span', { class: `badge outcome-${d.outcome}` }, d.outcome)),
    h('td', { class: 'small' }, result),
    h('td', { class: 'num' }, d.ms === null ? '–' : `${d.ms} ms`),
    h('td', { class: 'mono small' }, d.alertId ? d.alertId.slice(0, 8) : '–'),
  );
}

export function webhooksPanel(ctx: ViewContext): HTMLElement {
  const outcome = h('select', { name: 'outcome' }, option('', 'All attempts'), option('failed', 'Failed only'), option('delivered', 'Delivered only'));
  const tbody = h('tbody');
  // Shown only when there is more to load (a disabled button under an empty table read as broken).
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  const status = h('p', { class: 'muted small', role: 'status' });
  let cursor: string | null = null;

  async function load(append: boolean): Promise<void> {
    try {
      const res = await ctx.api.webhookDeliveries({ limit: PAGE, outcome: outcome.value || undefined, cursor: append ? (cursor ?? undefined) : undefined });
      cursor = res.nextCursor;
      if (append) tbody.append(...res.items.map(row));
      else replaceChildren(tbody, ...res.items.map(row));
      more.hidden = !cursor;
      status.textContent = tbody.childElementCount === 0 ? 'No delivery attempts yet (webhooks are configured with MASKWATCH_WEBHOOKS).' : `${tbody.childElementCount} attempt${tbody.childElementCount === 1 ? '' : 's'} shown`;
    } catch (err) {
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 8, class: 'form-error' }, errorText(err))));
    }
  }
  outcome.addEventListener('change', () => void load(false));
  more.addEventListener('click', () => void load(true));
  void load(false);
  const columns = ['Time', 'Target', 'Event', 'Attempt', 'Outcome', 'Result', 'Latency', 'Alert'];
  return h(
    'div',
    {},
    h('h2', {}, 'Webhook deliveries'),
    h('div', { class: 'filters' }, field('Show', outcome)),
    status,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'aria-label': 'Webhook deliveries' }, h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))), tbody)),
    more,
  );
}
