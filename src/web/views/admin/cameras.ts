/** Admin › Cameras: create (API key shown once, person confirmation k of n), edit (name, place, zone), rotate key, enable / disable. */
import type { Camera } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, replaceChildren, toast, uid } from '../../dom.ts';
import { formatAgo, formatDateTime, formatDuration } from '../../format.ts';
import { errorText, zonesOfCameras } from '../common.ts';
import { MAX_CONFIRM_WINDOW } from '../../../domain/people.ts';
import { cameraHealth } from '../../../domain/camera-health.ts';

function keyCallout(c: { name: string; apiKey: string }): HTMLElement {
  const code = h('code', { class: 'secret' }, c.apiKey);
  const copy = h('button', { type: 'button', class: 'btn btn-small' }, 'Copy key');
  copy.addEventListener('click', () => {
    void navigator.clipboard?.writeText(c.apiKey).then(
      () => toast('Key copied'),
      () => toast('Copy failed: select the key and copy it by hand.', 'error'),
    );
  });
  const box = h(
    'div',
    { class: 'callout', role: 'alert' },
    h('p', {}, h('strong', {}, `API key for ${c.name}`), ' — shown once. Store it in the camera agent now; it cannot be displayed again.'),
    h('div', { class: 'secret-row' }, code, copy),
  );
  const done = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'I have stored the key');
  done.addEventListener('click', () => box.remove());
  box.append(done);
  return box;
}

/** One number of "k of the last n frames"; empty means the deployment default. */
function confirmInput(which: 'k' | 'n', value: number | null): HTMLInputElement {
  const label = which === 'k' ? 'Confirm in k frames' : 'of the last n frames';
  return h('input', { name: which === 'k' ? 'confirmFrames' : 'confirmWindow', type: 'number', min: 1, max: MAX_CONFIRM_WINDOW, step: 1, placeholder: 'default', inputmode: 'numeric', 'aria-label': label, value: value === null ? '' : String(value) });
}

/** Both numbers, or neither (null = the deployment default); undefined (after a toast) when only one is given. */
function readConfirmation(k: HTMLInputElement, n: HTMLInputElement): { confirmFrames: number | null; confirmWindow: number | null } | undefined {
  const kv = k.value.trim();
  const nv = n.value.trim();
  if ((kv === '') !== (nv === '')) {
    toast('Give both k and n of the confirmation, or neither for the default.', 'error');
    return undefined;
  }
  return kv ? { confirmFrames: Number(kv), confirmWindow: Number(nv) } : { confirmFrames: null, confirmWindow: null };
}

export function camerasPanel(ctx: ViewContext): HTMLElement {
  const name = h('input', { name: 'name', required: true, maxlength: 200 });
  const lat = h('input', { name: 'latitude', required: true, inputmode: 'decimal' });
  const lon = h('input', { name: 'longitude', required: true, inputmode: 'decimal' });
  const address = h('input', { name: 'address', maxlength: 500 });
  // The zones cameras have already, offered as they are typed: a misspelt zone is one no dispatcher is given.
  const zoneListId = uid('camera-zones');
  const zone = h('input', { name: 'zone', maxlength: 100, list: zoneListId, autocomplete: 'off' });
  const knownZones = h('datalist', { id: zoneListId });
  // A person is confirmed in k of the last n analysed frames of its track; empty = the deployment default
  // (video); 1 of 1 for a camera that posts single stills.
  const confirmFrames = confirmInput('k', null);
  const confirmWindow = confirmInput('n', null);
  const calloutHost = h('div', {});
  const tbody = h('tbody');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create camera');
  const cancelEdit = h('button', { type: 'button', class: 'btn', hidden: true }, 'Cancel');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'New camera' },
    field('Name', name),
    field('Latitude', lat),
    field('Longitude', lon),
    field('Address', address),
    field('Zone', zone),
    knownZones,
    field('Confirm in k frames', confirmFrames),
    field('of the last n frames', confirmWindow),
    submit,
    cancelEdit,
  );
  /** The camera the form edits (its address is what officers navigate by); null: the form creates one. */
  let editing: Camera | null = null;
  function setEditing(c: Camera | null): void {
    editing = c;
    form.reset();
    form.setAttribute('aria-label', c ? `Edit camera ${c.name}` : 'New camera');
    submit.textContent = c ? 'Save changes' : 'Create camera';
    cancelEdit.hidden = !c;
    if (!c) return;
    name.value = c.name;
    lat.value = String(c.latitude);
    lon.value = String(c.longitude);
    address.value = c.address ?? '';
    zone.value = c.zone ?? '';
    confirmFrames.value = c.confirmFrames === null ? '' : String(c.confirmFrames);
    confirmWindow.value = c.confirmWindow === null ? '' : String(c.confirmWindow);
    name.focus();
  }
  cancelEdit.addEventListener('click', () => setEditing(null));
  /** MASKWATCH_CAMERA_SILENT_S (domain/camera-health.ts); 0 until known. */
  let silentSeconds = 0;
  async function load(): Promise<void> {
    try {
      const [cams, settings] = await Promise.all([ctx.api.cameras(), ctx.api.settings().catch(() => null)]);
      silentSeconds = settings?.cameraSilentSeconds ?? 0;
      replaceChildren(knownZones, ...zonesOfCameras(cams).map((z) => h('option', { value: z })));
      replaceChildren(tbody, ...cams.map(row));
      if (!cams.length) tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No cameras yet.')));
    } catch (err) {
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 8, class: 'form-error' }, errorText(err))));
    }
  }
  /** "k of n" (or "default") with a Change button that edits it in place (PATCH; empty = the deployment default). */
  function confirmationCell(c: Camera): HTMLElement {
    const shown = c.confirmFrames !== null && c.confirmWindow !== null ? h('span', {}, `${c.confirmFrames} of ${c.confirmWindow}`) : h('span', { class: 'muted' }, 'default');
    const change = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': `Change the confirmation of ${c.name}` }, 'Change');
    const cell = h('div', { class: 'row-actions' }, shown, change);
    change.addEventListener('click', () => {
      const k = confirmInput('k', c.confirmFrames);
      const n = confirmInput('n', c.confirmWindow);
      const save = h('button', { type: 'submit', class: 'btn btn-small btn-primary' }, 'Save');
      const cancel = h('button', { type: 'button', class: 'btn btn-small' }, 'Cancel');
      const edit = h('form', { class: 'row-actions', 'aria-label': `Confirmation of ${c.name}` }, k, h('span', {}, 'of'), n, save, cancel);
      cancel.addEventListener('click', () => edit.replaceWith(cell));
      edit.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const confirmation = readConfirmation(k, n);
        if (!confirmation) return;
        void ctx.api.updateCamera(c.id, confirmation).then(
          () => load(),
          (err) => toast(errorText(err), 'error'),
        );
      });
      cell.replaceWith(edit);
      k.focus();
    });
    return cell;
  }

  /** Enabled / Disabled / Silent (stopped sending frames), with the last frame's time. */
  function stateCell(c: Camera): Node[] {
    const now = Date.now();
    const health = cameraHealth(c, now, silentSeconds);
    const badge =
      health === 'silent'
        ? h('span', { class: 'badge badge-silent', title: `No frame for more than ${formatDuration(silentSeconds)}` }, 'Silent')
        : h('span', { class: `badge ${c.enabled ? 'unit-AVAILABLE' : 'unit-OFF_DUTY'}` }, c.enabled ? 'Enabled' : 'Disabled');
    const last = c.lastFrameAt ? `last frame ${formatDateTime(c.lastFrameAt)}${health === 'silent' ? ` (${formatAgo(c.lastFrameAt, now)})` : ''}` : 'no frame yet';
    return [badge, h('br'), h('span', { class: 'muted small' }, last)];
  }

  function row(c: Camera): HTMLElement {
    const rotate = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Rotate key of ${c.name}` }, 'Rotate key');
    rotate.addEventListener('click', () => {
      if (!confirm(`Rotate the API key of "${c.name}"? The camera stops sending until it gets the new key.`)) return;
      void ctx.api.rotateCameraKey(c.id).then(
        (r) => {
          replaceChildren(calloutHost, keyCallout({ name: c.name, apiKey: r.apiKey }));
          void load();
        },
        (err) => toast(errorText(err), 'error'),
      );
    });
    const toggle = h('button', { type: 'button', class: `btn btn-small ${c.enabled ? 'btn-danger' : ''}`, 'aria-label': `${c.enabled ? 'Disable' : 'Enable'} ${c.name}` }, c.enabled ? 'Disable' : 'Enable');
    toggle.addEventListener('click', () => {
      void ctx.api.updateCamera(c.id, { enabled: !c.enabled }).then(
        () => load(),
        (err) => toast(errorText(err), 'error'),
      );
    });
    const edit = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Edit ${c.name}` }, 'Edit');
    edit.addEventListener('click', () => setEditing(c));
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, c.name),
      h('td', {}, c.zone ?? '–'),
      h('td', {}, c.address ?? '–'),
      h('td', { class: 'mono small' }, `${c.latitude.toFixed(5)}, ${c.longitude.toFixed(5)}`),
      h('td', { class: 'mono' }, `…${c.apiKeyHint}`),
      h('td', {}, confirmationCell(c)),
      h('td', {}, ...stateCell(c)),
      h('td', {}, h('div', { class: 'row-actions' }, edit, rotate, toggle)),
    );
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const la = Number(lat.value);
    const lo = Number(lon.value);
    if (!Number.isFinite(la) || !Number.isFinite(lo) || lat.value.trim() === '' || lon.value.trim() === '') {
      toast('Latitude and longitude must be numbers.', 'error');
      return;
    }
    const confirmation = readConfirmation(confirmFrames, confirmWindow);
    if (!confirmation) return;
    if (editing) {
      // An emptied address or zone is cleared (null), not left as it was.
      const patch = { name: name.value.trim(), latitude: la, longitude: lo, address: address.value.trim() || null, zone: zone.value.trim() || null, ...confirmation };
      void ctx.api.updateCamera(editing.id, patch).then(
        () => {
          toast(`Saved ${patch.name}`);
          setEditing(null);
          void load();
        },
        (err) => toast(errorText(err), 'error'),
      );
      return;
    }
    void ctx.api
      .createCamera({ name: name.value.trim(), latitude: la, longitude: lo, address: address.value.trim() || undefined, zone: zone.value.trim() || undefined, ...confirmation })
      .then(
        (c) => {
          replaceChildren(calloutHost, keyCallout(c));
          form.reset();
          void load();
        },
        (err) => toast(errorText(err), 'error'),
      );
  });
  void load();
  return h(
    'div',
    {},
    h('h2', {}, 'Cameras'),
    form,
    calloutHost,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table', 'aria-label': 'Cameras' }, h('thead', {}, h('tr', {}, ...['Name', 'Zone', 'Address', 'Position', 'Key', 'Confirmation', 'State', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))), tbody)),
  );
}
