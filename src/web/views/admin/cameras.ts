/** Admin › Cameras: create (API key shown once, person confirmation k of n), rotate key, enable / disable. */
import type { Camera } from '../../api.ts';
import type { ViewContext } from '../../context.ts';
import { field, h, replaceChildren, toast } from '../../dom.ts';
import { formatDateTime } from '../../format.ts';
import { errorText } from '../common.ts';
import { MAX_CONFIRM_WINDOW } from '../../../domain/people.ts';

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

export function camerasPanel(ctx: ViewContext): HTMLElement {
  const name = h('input', { name: 'name', required: true, maxlength: 200 });
  const lat = h('input', { name: 'latitude', required: true, inputmode: 'decimal' });
  const lon = h('input', { name: 'longitude', required: true, inputmode: 'decimal' });
  const address = h('input', { name: 'address', maxlength: 500 });
  const zone = h('input', { name: 'zone', maxlength: 100 });
  // A person is confirmed in k of the last n analysed frames of its track; empty = the deployment default
  // (video); 1 of 1 for a camera that posts single stills.
  const confirmFrames = h('input', { name: 'confirmFrames', type: 'number', min: 1, max: MAX_CONFIRM_WINDOW, step: 1, placeholder: 'default', inputmode: 'numeric' });
  const confirmWindow = h('input', { name: 'confirmWindow', type: 'number', min: 1, max: MAX_CONFIRM_WINDOW, step: 1, placeholder: 'default', inputmode: 'numeric' });
  const calloutHost = h('div', {});
  const tbody = h('tbody');
  const form = h(
    'form',
    { class: 'filters', 'aria-label': 'New camera' },
    field('Name', name),
    field('Latitude', lat),
    field('Longitude', lon),
    field('Address', address),
    field('Zone', zone),
    field('Confirm in (k frames)', confirmFrames),
    field('of the last (n frames)', confirmWindow),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create camera'),
  );
  async function load(): Promise<void> {
    try {
      const cams = await ctx.api.cameras();
      replaceChildren(tbody, ...cams.map(row));
      if (!cams.length) tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No cameras yet.')));
    } catch (err) {
      replaceChildren(tbody, h('tr', {}, h('td', { colspan: 8, class: 'form-error' }, errorText(err))));
    }
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
    return h(
      'tr',
      {},
      h('th', { scope: 'row' }, c.name),
      h('td', {}, c.zone ?? '–'),
      h('td', {}, c.address ?? '–'),
      h('td', { class: 'mono small' }, `${c.latitude.toFixed(5)}, ${c.longitude.toFixed(5)}`),
      h('td', { class: 'mono' }, `…${c.apiKeyHint}`),
      h('td', {}, c.confirmFrames !== null && c.confirmWindow !== null ? `${c.confirmFrames} of ${c.confirmWindow}` : h('span', { class: 'muted' }, 'default')),
      h('td', {}, h('span', { class: `badge ${c.enabled ? 'unit-AVAILABLE' : 'unit-OFF_DUTY'}` }, c.enabled ? 'Enabled' : 'Disabled'), h('br'), h('span', { class: 'muted small' }, c.lastFrameAt ? `last frame ${formatDateTime(c.lastFrameAt)}` : 'no frame yet')),
      h('td', {}, h('div', { class: 'row-actions' }, rotate, toggle)),
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
    const k = confirmFrames.value.trim();
    const n = confirmWindow.value.trim();
    if ((k === '') !== (n === '')) {
      toast('Give both k and n of the confirmation, or neither for the default.', 'error');
      return;
    }
    const confirmation = k ? { confirmFrames: Number(k), confirmWindow: Number(n) } : {};
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
