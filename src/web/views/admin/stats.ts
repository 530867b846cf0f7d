/** Admin › Statistics: totals, violations per time bucket / camera, response-time distributions (inline SVG), how resolved alerts ended, false positives per camera. */
import { OUTCOME_LABELS } from '../../alert-list.ts';
import { barChart, distributionChart, rowChart } from '../../charts.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, option, replaceChildren } from '../../dom.ts';
import { formatDuration, formatPercent, isoToLocalInput, localInputToIso } from '../../format.ts';
import { errorText } from '../common.ts';

export function statsPanel(ctx: ViewContext): HTMLElement {
  const now = new Date();
  const from = h('input', { name: 'from', type: 'datetime-local', value: isoToLocalInput(new Date(now.getTime() - 7 * 86_400_000)) });
  const to = h('input', { name: 'to', type: 'datetime-local', value: isoToLocalInput(new Date(now.getTime() + 60_000)) });
  const groupBy = h('select', { name: 'groupBy' }, option('hour', 'Hour'), option('day', 'Day', true), option('zone', 'Zone'));
  const out = h('div', { class: 'stats-out', 'aria-live': 'polite' });
  async function load(): Promise<void> {
    replaceChildren(out, h('p', { class: 'muted' }, 'Loading…'));
    const range = { from: localInputToIso(from.value), to: localInputToIso(to.value) };
    try {
      const [time, byCamera] = await Promise.all([ctx.api.stats({ ...range, groupBy: groupBy.value, utcOffsetMinutes: -new Date().getTimezoneOffset() }), ctx.api.stats({ ...range, groupBy: 'camera' })]);
      const rt = time.responseTimes;
      const card = (label: string, value: string) => h('div', { class: 'kpi' }, h('span', { class: 'kpi-value' }, value), h('span', { class: 'kpi-label' }, label));
      const byLabel = time.groupBy === 'zone' ? 'zone' : time.groupBy;
      replaceChildren(
        out,
        h(
          'div',
          { class: 'kpis' },
          card('Violations', String(time.totals.violations)),
          card('Alerts', String(time.totals.alerts)),
          card('Median time to dispatch', formatDuration(rt.toDispatch.medianSeconds)),
          card('Median time to acknowledge (from dispatch)', formatDuration(rt.toAcknowledge.medianSeconds)),
          card('Median time to resolve', formatDuration(rt.toResolve.medianSeconds)),
          card('p90 time to resolve', formatDuration(rt.toResolve.p90Seconds)),
        ),
        h('figure', { class: 'chart-fig' }, h('figcaption', {}, `Violations per ${byLabel}`), barChart(`Violations per ${byLabel}`, time.buckets.map((b) => ({ label: b.label, value: b.violations })), { width: 1100, height: 240 })),
        h('figure', { class: 'chart-fig' }, h('figcaption', {}, 'Violations per camera'), rowChart('Violations per camera', byCamera.buckets.map((b) => ({ label: b.label, value: b.violations })), { width: 1100 })),
        h(
          'div',
          { class: 'dists' },
          ...(
            [
              ['Time to dispatch', rt.toDispatch],
              ['Time to acknowledge (from dispatch)', rt.toAcknowledge],
              ['Time to resolve', rt.toResolve],
            ] as const
          ).map(([label, d]) =>
            h(
              'figure',
              { class: 'chart-fig' },
              h('figcaption', {}, `${label} — median ${formatDuration(d.medianSeconds)}, p90 ${formatDuration(d.p90Seconds)} (${d.count})`),
              distributionChart(label, d),
            ),
          ),
        ),
        // What officers found on arrival: a high "gone on arrival" share says the response is too slow for the camera.
        h(
          'figure',
          { class: 'chart-fig' },
          h('figcaption', {}, 'How resolved alerts ended (the outcome officers chose)'),
          time.resolutionOutcomes.length
            ? rowChart(
                'How resolved alerts ended',
                time.resolutionOutcomes.map((o) => ({ label: o.outcome ? OUTCOME_LABELS[o.outcome] : 'No outcome given', value: o.alerts })),
                { width: 1100 },
              )
            : h('p', { class: 'muted' }, 'No alert of this period was resolved.'),
        ),
        // Cameras whose people are often marked "not a violation" (posters, mirrors, bad angles) first: where to re-aim or re-tune.
        h(
          'figure',
          { class: 'chart-fig' },
          h('figcaption', {}, 'False positives per camera (people of the period\'s alerts dispatchers marked "not a violation", and resolved alerts where the officer found none)'),
          time.falsePositives.length
            ? h(
                'div',
                { class: 'table-wrap' },
                h(
                  'table',
                  { class: 'table', 'aria-label': 'False positives per camera' },
                  h('thead', {}, h('tr', {}, ...['Camera', 'People', 'Marked not a violation', 'Rate', 'Resolved alerts', 'Officer found none'].map((c) => h('th', { scope: 'col' }, c)))),
                  h(
                    'tbody',
                    {},
                    ...time.falsePositives.map((f) =>
                      h(
                        'tr',
                        {},
                        h('td', {}, f.label),
                        h('td', {}, String(f.people)),
                        h('td', {}, String(f.falsePositives)),
                        h('td', {}, formatPercent(f.rate)),
                        h('td', {}, String(f.resolvedAlerts)),
                        h('td', {}, f.resolvedAlerts ? `${f.notAViolation} (${formatPercent(f.notAViolation / f.resolvedAlerts)})` : '–'),
                      ),
                    ),
                  ),
                ),
              )
            : h('p', { class: 'muted' }, 'No people in alerts of this period.'),
        ),
      );
    } catch (err) {
      replaceChildren(out, h('p', { class: 'form-error' }, `Statistics failed: ${errorText(err)}`));
    }
  }
  const form = h('form', { class: 'filters', 'aria-label': 'Statistics period' }, field('From', from), field('To', to), field('Group by', groupBy), h('button', { type: 'submit', class: 'btn btn-primary' }, 'Show'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load();
  });
  void load();
  return h('div', {}, h('h2', {}, 'Statistics'), form, out);
}
