/** Admin › Audit: the audit trail (who viewed which evidence, dispatched whom, changed which account), newest first. */
import type { AuditEvent, AuditIntegrity } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, option, replaceChildren } from '../../dom.ts';
import { formatDateTime, localInputToIso } from '../../format.ts';
import { errorText } from '../common.ts';

const PAGE = 50;
const COLUMNS = ['Time', 'Who', 'Action', 'Subject', 'Details'];

/** The verdict of a verification, as a sentence and its problems. */
function integrityText(r: AuditIntegrity): (Node | string)[] {
  const counts = `${r.seals} seals, ${r.sealedEvents} sealed events recomputed${r.prunedSeals ? ` (${r.prunedSeals} pruned seals skipped)` : ''}, ${r.unsealedEvents} not sealed yet`;
  if (r.ok) return [h('span', { class: 'badge unit-AVAILABLE' }, 'Intact'), ` ${counts}.`];
  return [h('span', { class: 'badge unit-OFF_DUTY' }, 'Tampered'), ` ${counts}: `, ...r.problems.map((p) => h('span', { class: 'form-error' }, `${p.detail}. `))];
}

/** The actor of an event (or a viewer of evidence) as people read it. */
export function actorText(e: Pick<AuditEvent, 'actorType' | 'actorId' | 'actorRole' | 'actorName'>): string {
  // The system's actor id says which part acted (e.g. `cli` for the maskwatch users command).
  if (e.actorType === 'SYSTEM') return e.actorId ? `MaskWatch (${e.actorId})` : 'MaskWatch';
  const id = e.actorId?.slice(0, 8) ?? '–';
  if (e.actorType === 'CAMERA') return e.actorName ? `Camera ${e.actorName}` : `Deleted camera ${id}`;
  const name = e.actorName ?? `User ${id}`;
  return e.actorRole ? `${name} · ${e.actorRole.toLowerCase()}` : name;
}

/** Details on one line, `key: value`, nested values as JSON. */
function detailsText(d: AuditEvent['details']): string {
  if (!d) return '';
  return Object.entries(d)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

/** The subject's id, shortened; an alert's (or one of its frames') links to its review: timeline and who saw its evidence. */
function subject(e: AuditEvent): Node | string {
  if (!e.subjectId) return '';
  const short = e.subjectId.slice(0, 8);
  const alertId = e.subjectType === 'Alert' ? e.subjectId : e.subjectType === 'AlertFrame' ? e.subjectId.split('/')[0]! : null;
  if (!alertId) return h('span', { class: 'mono', title: e.subjectId }, short);
  return h('a', { class: 'mono', title: e.subjectId, href: `#/admin/review?alert=${encodeURIComponent(alertId)}`, 'aria-label': `Review alert ${short}` }, short);
}

function row(e: AuditEvent): HTMLElement {
  return h(
    'tr',
    {},
    h('td', {}, formatDateTime(e.at)),
    h('td', {}, actorText(e)),
    h('td', { class: 'mono small' }, e.action),
    h('td', { class: 'small' }, e.subjectType, ' ', subject(e)),
    h('td', { class: 'small audit-details' }, detailsText(e.details)),
  );
}

export function auditPanel(ctx: ViewContext): HTMLElement {
  const user = h('select', { name: 'actorId' }, option('', 'Everyone'));
  const action = h('input', { name: 'action', maxlength: 100, placeholder: 'e.g. alert.' });
  const subject = h('input', { name: 'subjectId', maxlength: 200, placeholder: 'alert, user or camera id' });
  const from = h('input', { name: 'from', type: 'datetime-local' });
  const to = h('input', { name: 'to', type: 'datetime-local' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  const status = h('p', { class: 'muted small', role: 'status' });
  let cursor: string | null = null;
  void ctx.api.users().then(
    (users) => {
      for (const u of users) user.append(option(u.id, u.username));
    },
    () => undefined,
  );

  const filters = () => ({
    actorId: user.value || undefined,
    action: action.value.trim().toLowerCase() || undefined,
    subjectId: subject.value.trim() || undefined,
    from: localInputToIso(from.value),
    to: localInputToIso(to.value),
  });

  async function load(append: boolean): Promise<void> {
    status.textContent = 'Loading…';
    try {
      const res = await ctx.api.audit({ ...filters(), limit: PAGE, cursor: append ? (cursor ?? undefined) : undefined });
      cursor = res.nextCursor;
      if (append) tbody.append(...res.items.map(row));
      else replaceChildren(tbody, ...res.items.map(row));
      more.hidden = !cursor;
      const n = tbody.childElementCount;
      status.textContent = n === 0 ? 'No audit events match these filters.' : `${n} event${n === 1 ? '' : 's'} shown`;
    } catch (err) {
      status.textContent = `Search failed: ${errorText(err)}`;
    }
  }
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'Search the audit trail' },
    field('User', user),
    field('Action', action),
    field('Subject', subject),
    field('From', from),
    field('To', to),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load(false);
  });
  more.addEventListener('click', () => void load(true));
  void load(false);
  const verify = h('button', { type: 'button', class: 'btn btn-small' }, 'Verify integrity');
  const integrity = h('p', { class: 'small', role: 'status' });
  verify.addEventListener('click', () => {
    verify.disabled = true;
    integrity.textContent = 'Recomputing every seal…';
    ctx.api.auditIntegrity().then(
      (r) => replaceChildren(integrity, ...integrityText(r)),
      (err: unknown) => {
        integrity.textContent = errorText(err);
      },
    ).finally(() => {
      verify.disabled = false;
    });
  });
  return h(
    'div',
    {},
    h('h2', {}, 'Audit trail'),
    h('p', { class: 'muted small' }, 'Every view of evidence, dispatch, export and account change, newest first. Searching here is audited too.'),
    h('div', { class: 'row-actions' }, verify, integrity),
    form,
    status,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'aria-label': 'Audit trail' }, h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col' }, c)))), tbody)),
    more,
  );
}
