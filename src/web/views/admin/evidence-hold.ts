/**
 * An incident's evidence hold, in Admin › Closed incidents: keep its images past retention with a reason (a
 * complaint, an inquiry) until a review date, keep it again at the review, or release it to retention
 * (PUT / DELETE /api/v1/alerts/:id/hold). All of it is audited.
 */
import type { EvidenceHold } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, replaceChildren, toast } from '../../dom.ts';
import { formatDateTime, isoToLocalInput, localInputToIso } from '../../format.ts';
import { errorText } from '../common.ts';

const DAY_MS = 86_400_000;
/** `<input type="date">` value of the local day `days` from now. */
const dayFromNow = (days: number) => isoToLocalInput(new Date(Date.now() + days * DAY_MS)).slice(0, 10);

/**
 * `hold`: the incident's hold, or null; `reviewDays`: the default review period; `changed` is told after a
 * hold, a keep or a release, to redraw it.
 */
export function evidenceHoldSection(ctx: ViewContext, alertId: string, hold: EvidenceHold | null, reviewDays: number, changed: () => void): HTMLElement {
  const body = h('div', {});
  const section = h('section', { class: 'evidence-hold', 'aria-labelledby': `hold-${alertId}` }, h('h4', { class: 'timeline-title', id: `hold-${alertId}` }, 'Evidence hold'), body);
  const error = h('p', { class: 'form-error', role: 'alert' });

  function act(action: () => Promise<unknown>, done: string): void {
    error.textContent = '';
    action().then(
      () => {
        toast(done);
        changed();
      },
      (err: unknown) => {
        error.textContent = errorText(err);
      },
    );
  }

  /** Reason and review date: a new hold, or keeping one at its review (the new reason and date replace the old). */
  function holdForm(submitLabel: string, done: string, reasonValue = ''): HTMLFormElement {
    const reason = h('input', { name: 'reason', required: true, minlength: 3, maxlength: 500, placeholder: 'e.g. Complaint 2026-118', autocomplete: 'off', value: reasonValue });
    const review = h('input', { name: 'reviewAt', type: 'date', required: true, min: dayFromNow(1), max: dayFromNow(3 * 365 - 1), value: dayFromNow(reviewDays) });
    const form = h('form', { class: 'hold-form' }, field('Reason', reason), field('Review by', review), h('button', { type: 'submit', class: 'btn btn-small' }, submitLabel));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(() => ctx.api.holdEvidence(alertId, { reason: reason.value, reviewAt: localInputToIso(`${review.value}T00:00`) }), done);
    });
    return form;
  }

  if (hold) {
    const release = h('button', { type: 'button', class: 'btn btn-small' }, 'Release hold');
    release.addEventListener('click', () => {
      if (!confirm('Release the hold? Retention then deletes this incident\u2019s images at its next run if they are older than the retention period.')) return;
      act(() => ctx.api.releaseEvidence(alertId), 'Hold released: the evidence follows retention again');
    });
    const review = hold.reviewDue
      ? h('p', {}, h('span', { class: 'badge badge-hold-due' }, 'Review due'), hold.reviewAt ? ` Since ${formatDateTime(hold.reviewAt)}: keep it with a new review date, or release it.` : ' Set before review dates: keep it with a review date, or release it.')
      : h('p', { class: 'muted small' }, `Review by ${formatDateTime(hold.reviewAt)}.`);
    replaceChildren(
      body,
      h('p', {}, h('span', { class: 'badge badge-hold' }, 'On hold'), ` Kept past retention since ${formatDateTime(hold.heldAt)}${hold.heldByName ? `, by ${hold.heldByName}` : ''}.`),
      h('p', { class: 'hold-reason' }, hold.reason),
      review,
      release,
      h('details', { class: 'hold-keep', open: hold.reviewDue }, h('summary', {}, 'Keep on hold (review)'), holdForm('Keep on hold', 'Hold kept: reviewed, with a new review date', hold.reason)),
      error,
    );
  } else {
    replaceChildren(
      body,
      h('p', { class: 'muted small' }, 'Retention deletes this incident\u2019s images when they are old enough. Hold them for a complaint, an inquiry or a court request; the reason and the review date are audited.'),
      holdForm('Hold evidence', 'Evidence on hold: retention keeps it until released'),
      error,
    );
  }
  return section;
}
