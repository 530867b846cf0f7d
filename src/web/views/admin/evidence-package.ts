/**
 * An incident's evidence package, in Admin › Closed incidents: one ZIP for a prosecutor, a court or an
 * inquiry (GET /api/v1/alerts/:id/evidence-package). The export is audited; `maskwatch evidence verify`
 * checks a package against that record.
 */
import type { ViewContext } from '../../context.ts';
import { h, saveBlob, toast } from '../../dom.ts';
import { errorText } from '../common.ts';

export function evidencePackageSection(ctx: ViewContext, alertId: string): HTMLElement {
  const button = h('button', { type: 'button', class: 'btn btn-small' }, 'Download evidence package');
  const status = h('p', { class: 'muted small', role: 'status' });
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = 'Preparing the package\u2026';
    ctx.api.evidencePackage(alertId).then(
      (blob) => {
        saveBlob(blob, `maskwatch-evidence-${alertId}.zip`);
        status.textContent = 'Downloaded. The export is recorded in the audit trail.';
      },
      (err: unknown) => {
        status.textContent = '';
        toast(`Export failed: ${errorText(err)}`, 'error');
      },
    ).finally(() => {
      button.disabled = false;
    });
  });
  return h(
    'section',
    { class: 'evidence-package', 'aria-labelledby': `package-${alertId}` },
    h('h4', { class: 'timeline-title', id: `package-${alertId}` }, 'Evidence package'),
    h(
      'p',
      { class: 'muted small' },
      'One ZIP for a prosecutor, a court or an inquiry: the frames as shown here (only this incident\u2019s people unblurred), each person\u2019s face crops, the record and timeline, and every file\u2019s SHA-256. Each download is audited.',
    ),
    button,
    status,
  );
}
