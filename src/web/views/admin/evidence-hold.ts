/**
 * An incident's evidence hold, in Admin › Closed incidents: keep its images past retention with a reason (a
 * complaint, an inquiry), or release them to retention (PUT / DELETE /api/v1/alerts/:id/hold). Both are audited.
 */
import type { EvidenceHold } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, replaceChildren, toast } from '../../dom.ts';
import { formatDateTime } from '../../format.ts';
import { errorText } from '../common.ts';

/** `hold`: the incident's hold, or null; `changed` is told after a hold or a release, to redraw it. */
export function evidenceHoldSection(ctx: ViewContext, alertId: string, hold: EvidenceHold | null, changed: () => void): HTMLElement {
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

  if (hold) {
    const release = h('button', { type: 'button', class: 'btn btn-small' }, 'Release hold');
    release.addEventListener('click', () => {
      if (!confirm('Release the hold? Retention then deletes this incident\u2019s images at its next run if they are older than the retention period.')) return;
      act(() => ctx.api.releaseEvidence(alertId), 'Hold released: the evidence follows retention again');
    });
    replaceChildren(
      body,
      h('p', {}, h('span', { class: 'badge badge-hold' }, 'On hold'), ` Kept past retention since ${formatDateTime(hold.heldAt)}${hold.heldByName ? `, by ${hold.heldByName}` : ''}.`),
      h('p', { class: 'hold-reason' }, hold.reason),
      release,
      error,
    );
  } else {
    const reason = h('input', { name: 'reason', required: true, minlength: 3, maxlength: 500, placeholder: 'e.g. Complaint 2026-118', autocomplete: 'off' });
    const form = h(
      'form',
      { class: 'hold-form' },
      h('p', { class: 'muted small' }, 'Retention deletes this incident\u2019s images when they are old enough. Hold them for a complaint, an inquiry or a court request; the reason is audited.'),
      field('Reason', reason),
      h('button', { type: 'submit', class: 'btn btn-small' }, 'Hold evidence'),
      error,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      act(() => ctx.api.holdEvidence(alertId, reason.value), 'Evidence on hold: retention keeps it until released');
    });
    replaceChildren(body, form);
  }
  return section;
}
