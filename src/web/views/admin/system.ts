/**
 * Admin › System: the deployment checks of `maskwatch doctor` (GET /api/v1/system/checks) — Redis's
 * persistence, the migrations, the clocks, the workers, the data folder, the secret key, the running instances — with each fix, for
 * admins who do not have a shell on the hosts. Failures first, then warnings.
 */
import type { SystemChecks } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { h, replaceChildren } from '../../dom.ts';
import { formatDateTime } from '../../format.ts';
import { errorText } from '../common.ts';

const ORDER = { fail: 0, warn: 1, ok: 2, skipped: 3 } as const;
const LABEL = { fail: 'Failed', warn: 'Warning', ok: 'OK', skipped: 'Not checked' } as const;

/** The checks' text marks commands and settings with backticks, as the CLI prints it: shown as code here. */
const withCode = (text: string): Array<string | HTMLElement> => text.split('`').map((part, i) => (i % 2 === 1 ? h('code', {}, part) : part));

function row(c: SystemChecks['checks'][number]): HTMLElement {
  return h(
    'tr',
    {},
    h('td', {}, h('span', { class: `badge check-${c.status}` }, LABEL[c.status])),
    h('th', { scope: 'row' }, c.name),
    h('td', { class: 'small' }, ...withCode(c.detail)),
    h('td', { class: 'small' }, ...(c.fix ? withCode(c.fix) : ['–'])),
  );
}

function instanceRow(i: SystemChecks['instances'][number]): HTMLElement {
  return h(
    'tr',
    {},
    h('td', {}, i.kind === 'api' ? 'API' : 'Worker'),
    h('th', { scope: 'row' }, i.host),
    h('td', { class: 'mono small' }, String(i.pid)),
    h('td', { class: 'small' }, `${i.version} `, h('span', { class: 'muted mono' }, i.schema)),
    h('td', { class: 'small' }, formatDateTime(i.startedAt)),
    h('td', { class: 'small' }, formatDateTime(i.seenAt)),
    h('td', { class: 'small' }, `${Math.round(i.rssBytes / 1_048_576)} MB`),
  );
}

export function systemPanel(ctx: ViewContext): HTMLElement {
  const tbody = h('tbody');
  const instances = h('tbody');
  const status = h('p', { class: 'muted small', role: 'status' }, 'Checking\u2026');
  const again = h('button', { type: 'button', class: 'btn btn-small' }, 'Check again');

  async function load(): Promise<void> {
    again.disabled = true;
    try {
      const res = await ctx.api.systemChecks();
      replaceChildren(tbody, ...[...res.checks].sort((a, b) => ORDER[a.status] - ORDER[b.status]).map(row));
      replaceChildren(instances, ...(res.instances.length ? res.instances.map(instanceRow) : [h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No instance announces itself.'))]));
      status.textContent = `${res.ok ? 'No check failed' : `${res.failed} check${res.failed === 1 ? '' : 's'} failed`}, ${res.warnings} warning${res.warnings === 1 ? '' : 's'} \u2014 checked ${formatDateTime(res.checkedAt)} by the server that answered.`;
    } catch (err) {
      status.textContent = '';
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 4, class: 'form-error' }, errorText(err))));
    } finally {
      again.disabled = false;
    }
  }
  again.addEventListener('click', () => void load());
  void load();
  return h(
    'div',
    {},
    h('h2', {}, 'Deployment checks'),
    h(
      'p',
      { class: 'muted small' },
      'What ',
      h('code', {}, 'maskwatch doctor'),
      ' checks, as this server sees the deployment. The vision models are checked on the worker hosts: run ',
      h('code', {}, 'npx maskwatch doctor'),
      ' there.',
    ),
    h('div', { class: 'filters' }, again),
    status,
    h(
      'div',
      { class: 'table-wrap' },
      h('table', { class: 'table', 'aria-label': 'Deployment checks' }, h('thead', {}, h('tr', {}, ...['Result', 'Check', 'Found', 'Fix'].map((c) => h('th', { scope: 'col' }, c)))), tbody),
    ),
    h('h3', {}, 'Running instances'),
    h('p', { class: 'muted small' }, 'Every API and worker process on this Redis, as each announced itself in the last 30 seconds. The instances check above compares their releases and settings.'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table', 'aria-label': 'Running instances' },
        h('thead', {}, h('tr', {}, ...['Process', 'Host', 'PID', 'Release', 'Started', 'Last seen', 'Memory'].map((c) => h('th', { scope: 'col' }, c)))),
        instances,
      ),
    ),
  );
}
