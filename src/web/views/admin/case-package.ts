/**
 * A case's evidence package, in Admin › Closed incidents: an admin adds incidents from their review (the same
 * person on several days, one event seen by several cameras), names the agency's case reference, and downloads
 * one signed ZIP for them all (POST /api/v1/evidence-packages). Each incident's audit trail records the export.
 * The case being built is kept for the browser tab and the admin (sessionStorage), so it survives other admin tabs
 * and a reload while the admin looks for its incidents. **Encrypt** wraps the package in an AES-256 ZIP under a
 * generated passphrase (passphrase.ts), shown here to be sent by another channel and kept nowhere.
 */
import { CASE_MAX_INCIDENTS } from '../../../contracts/vocabulary.ts';
import { casePackageFileName } from '../../../contracts/api.ts';
import type { AlertEvent } from '../../../realtime/events.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, replaceChildren, saveBlob, toast } from '../../dom.ts';
import { formatDateTime } from '../../format.ts';
import { generatePassphrase } from '../../passphrase.ts';
import { errorText } from '../common.ts';

export interface CasePackage {
  /** The section that lists the case's incidents and downloads their package. */
  section: HTMLElement;
  /** A button that adds an incident to the case, or takes it out (pressed while it is in). */
  toggleFor(alertId: string, alert: AlertEvent | null): HTMLElement;
}

const CASE_KEY = 'maskwatch.case.';

/** The case kept in the tab: its incidents (alert id → label) and reference; empty when none or unreadable. */
function loadCase(key: string): { incidents: [string, string][]; reference: string } {
  try {
    const kept = JSON.parse(sessionStorage.getItem(key) ?? 'null') as { incidents?: unknown; reference?: unknown } | null;
    const incidents = Array.isArray(kept?.incidents) ? kept.incidents.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string') : [];
    return { incidents: incidents.slice(0, CASE_MAX_INCIDENTS), reference: typeof kept?.reference === 'string' ? kept.reference : '' };
  } catch {
    return { incidents: [], reference: '' };
  }
}

export function casePackage(ctx: ViewContext): CasePackage {
  const key = CASE_KEY + ctx.session.user.id;
  const kept = loadCase(key);
  /** Alert id → how the case lists it. */
  const incidents = new Map<string, string>(kept.incidents);
  const reference = h('input', { name: 'reference', maxlength: '100', placeholder: 'e.g. DP-2026/0412', autocomplete: 'off', value: kept.reference }) as HTMLInputElement;
  const save = () => sessionStorage.setItem(key, JSON.stringify({ incidents: [...incidents], reference: reference.value }));
  reference.addEventListener('input', save);
  const toggles = new Set<{ alertId: string; button: HTMLButtonElement }>();
  const list = h('ul', { class: 'case-incidents', 'aria-label': 'Incidents in the case' });
  const download = h('button', { type: 'button', class: 'btn btn-small' }, 'Download case package');
  const status = h('p', { class: 'muted small', role: 'status' });
  // Encryption: on by default for what leaves the building; the passphrase is the page's only copy.
  const encrypt = h('input', { type: 'checkbox', name: 'encrypt', checked: true }) as HTMLInputElement;
  const passphrase = h('input', { name: 'passphrase', readonly: true, class: 'passphrase', spellcheck: 'false', autocomplete: 'off', value: generatePassphrase() }) as HTMLInputElement;
  const another = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }, 'New passphrase');
  another.addEventListener('click', () => (passphrase.value = generatePassphrase()));
  const secret = h(
    'div',
    { class: 'case-passphrase' },
    field('Passphrase', passphrase),
    another,
    h('p', { class: 'muted small' }, 'The package opens with 7-Zip (or WinZip, WinRAR) and this passphrase. Send it by another channel than the file (read it out by phone); MaskWatch keeps no copy.'),
  );
  encrypt.addEventListener('change', () => (secret.hidden = !encrypt.checked));
  const form = h(
    'div',
    { class: 'case-form' },
    field('Case reference', reference),
    h('label', { class: 'check' }, encrypt, ' Encrypt (AES-256)'),
    secret,
    download,
  );

  function render(): void {
    replaceChildren(
      list,
      ...[...incidents].map(([id, label]) => {
        const remove = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Remove ${label} from the case` }, 'Remove');
        remove.addEventListener('click', () => toggle(id, label));
        return h('li', {}, h('span', {}, label), remove);
      }),
    );
    form.hidden = incidents.size === 0;
    status.textContent = incidents.size ? '' : 'Add incidents from their review to export them together under one case reference.';
    for (const t of toggles) {
      if (!t.button.isConnected) toggles.delete(t);
      else pressed(t.button, incidents.has(t.alertId));
    }
  }

  function pressed(button: HTMLButtonElement, inCase: boolean): void {
    button.setAttribute('aria-pressed', String(inCase));
    button.textContent = inCase ? 'In the case package' : 'Add to case package';
  }

  function toggle(alertId: string, label: string): void {
    if (incidents.has(alertId)) incidents.delete(alertId);
    else if (incidents.size >= CASE_MAX_INCIDENTS) toast(`A case package holds at most ${CASE_MAX_INCIDENTS} incidents.`, 'error');
    else incidents.set(alertId, label);
    save();
    render();
  }

  download.addEventListener('click', () => {
    const ref = reference.value.trim();
    if (!ref) {
      reference.focus();
      status.textContent = 'Enter the case reference first.';
      return;
    }
    download.disabled = true;
    status.textContent = 'Preparing the package\u2026';
    const sealed = encrypt.checked;
    ctx.api
      .casePackage({ reference: ref, alertIds: [...incidents.keys()], ...(sealed ? { passphrase: passphrase.value } : {}) })
      .then(
        (blob) => {
          saveBlob(blob, casePackageFileName(ref, sealed));
          const n = `${incidents.size} incident${incidents.size === 1 ? '' : 's'}`;
          status.textContent = sealed
            ? `Downloaded ${n} as case ${ref}, encrypted with the passphrase above. The export is recorded in each incident\u2019s audit trail.`
            : `Downloaded ${n} as case ${ref}. The export is recorded in each incident\u2019s audit trail.`;
        },
        (err: unknown) => {
          status.textContent = '';
          toast(`Export failed: ${errorText(err)}`, 'error');
        },
      )
      .finally(() => {
        download.disabled = false;
      });
  });

  render();
  return {
    section: h(
      'section',
      { class: 'case-package', 'aria-labelledby': 'case-package-title' },
      h('h3', { id: 'case-package-title' }, 'Case package'),
      list,
      form,
      status,
    ),
    toggleFor(alertId, alert) {
      const label = alert ? `${alert.camera.name}, ${formatDateTime(alert.createdAt)}` : `Alert ${alertId}`;
      const button = h('button', { type: 'button', class: 'btn btn-small btn-ghost' }) as HTMLButtonElement;
      pressed(button, incidents.has(alertId));
      button.addEventListener('click', () => toggle(alertId, label));
      toggles.add({ alertId, button });
      return button;
    },
  };
}
