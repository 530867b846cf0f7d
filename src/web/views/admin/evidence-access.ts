/**
 * The chain of custody of one incident's evidence, in Admin › Closed incidents: who viewed its annotated
 * frames and face crops, how often, when and from where (GET /api/v1/alerts/:id/evidence-access).
 */
import type { AlertEvent } from '../../../realtime/events.ts';
import type { AuditEvent, EvidenceAccess } from '../../api.ts';
import { SNAPSHOT_ROUTE_PREFIX } from '../../../contracts/vocabulary.ts';
import type { ViewContext } from '../../context.ts';
import { h, replaceChildren } from '../../dom.ts';
import { formatDateTime } from '../../format.ts';
import { errorText } from '../common.ts';
import { actorText } from './audit.ts';

/** What one view showed: a frame (with how many faces sharp and blurred) or a face crop (whose, when it is a person's best shot). */
export function viewedText(e: AuditEvent, alert: Pick<AlertEvent, 'people'> | null): string {
  const d = e.details ?? {};
  if (e.subjectType === 'AlertFrame') {
    const count = (n: unknown, what: string) => (typeof n === 'number' ? `${n} ${what}` : null);
    const faces = [count(d.people, 'unblurred'), count(d.blurred, 'blurred')].filter(Boolean).join(', ');
    return faces ? `Annotated frame (${faces})` : 'Annotated frame';
  }
  const person = alert?.people.findIndex((p) => p.snapshotUrl === `${SNAPSHOT_ROUTE_PREFIX}${e.subjectId ?? ''}`) ?? -1;
  return person >= 0 ? `Face crop of person ${person + 1}` : 'Face crop';
}

function render(access: EvidenceAccess, alert: Pick<AlertEvent, 'people'> | null): Node[] {
  if (access.viewers.length === 0) return [h('p', { class: 'muted' }, 'Nobody has viewed this incident\u2019s frames or face crops.')];
  const viewers = h(
    'ul',
    { class: 'evidence-viewers', 'aria-label': 'Who viewed the evidence' },
    ...access.viewers.map((v) =>
      h('li', {}, h('strong', {}, actorText(v)), ` \u2014 ${v.views} view${v.views === 1 ? '' : 's'}, first ${formatDateTime(v.firstAt)}, last ${formatDateTime(v.lastAt)}`),
    ),
  );
  const rows = access.items.map((e) =>
    h(
      'tr',
      {},
      h('td', {}, formatDateTime(e.at)),
      h('td', {}, actorText(e)),
      h('td', {}, viewedText(e, alert)),
      h('td', { class: 'mono small' }, typeof e.details?.clientIp === 'string' ? e.details.clientIp : '\u2013'),
    ),
  );
  const listed: Node[] = [
    viewers,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'table', 'aria-label': 'Views of the evidence' },
        h('thead', {}, h('tr', {}, ...['Time', 'Who', 'Viewed', 'From'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, ...rows),
      ),
    ),
  ];
  if (access.truncated) listed.push(h('p', { class: 'muted small' }, `The ${access.items.length} latest views are listed; the summary above counts them all.`));
  return listed;
}

/** The section, filled in once loaded; `alert` (when listed) names the people whose crops were viewed. */
export function evidenceAccessSection(ctx: ViewContext, alertId: string, alert: Pick<AlertEvent, 'people'> | null): HTMLElement {
  const body = h('div', { class: 'evidence-access' }, h('p', { class: 'muted small' }, 'Loading\u2026'));
  ctx.api.evidenceAccess(alertId).then(
    (access) => replaceChildren(body, ...render(access, alert)),
    (err: unknown) => replaceChildren(body, h('p', { class: 'form-error' }, `Could not load the evidence access: ${errorText(err)}`)),
  );
  return h('section', { 'aria-label': 'Evidence access' }, h('h4', { class: 'timeline-title' }, 'Evidence access'), body);
}
