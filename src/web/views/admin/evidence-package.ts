/**
 * An incident's evidence package, in Admin › Closed incidents: one ZIP for a prosecutor, a court or an
 * inquiry (GET /api/v1/alerts/:id/evidence-package). The export is audited; `maskwatch evidence verify`
 * checks a package against that record. Packages are signed: the section shows the signing key's fingerprint
 * and offers its public key, which the receiving side checks the package's origin against.
 */
import type { ViewContext } from '../../context.ts';
import { h, saveBlob, toast } from '../../dom.ts';
import { errorText } from '../common.ts';

/** The signing key's fingerprint, and a button that saves its public key (PEM); filled in once it is fetched. */
function signingKeyLine(ctx: ViewContext): HTMLElement {
  const line = h('p', { class: 'muted small signing-key' }, 'Signed by this server\u2019s key\u2026');
  ctx.api.evidenceSigningKey().then(
    (key) => {
      const save = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'Download public key');
      save.addEventListener('click', () => saveBlob(new Blob([key.publicKeyPem], { type: 'application/x-pem-file' }), 'maskwatch-evidence-signing-key.pem'));
      line.replaceChildren('Signed (Ed25519) by this server\u2019s key, SHA-256 fingerprint ', h('code', { class: 'mono fingerprint' }, key.keyFingerprint), '. ', save);
    },
    (err: unknown) => {
      line.textContent = `Signing key unavailable: ${errorText(err)}`;
    },
  );
  return line;
}

/** `caseToggle`: the control that adds the incident to a case's package (case-package.ts). */
export function evidencePackageSection(ctx: ViewContext, alertId: string, caseToggle: HTMLElement): HTMLElement {
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
    signingKeyLine(ctx),
    h('div', { class: 'actions' }, button, caseToggle),
    status,
  );
}
