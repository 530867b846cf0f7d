/**
 * Camera map in SVG. By default a plain canvas: works with no internet and no
 * tile server. With MASKWATCH_MAP_TILE_URL set, the server's tiles are drawn
 * underneath (Web Mercator) with their attribution. Cameras with an open alert
 * pulse red; units are squares at their last reported position.
 *
 * The map is one long-lived component, updated in place from socket events:
 * - its extent is fitted to the cameras and the units placed when it is first
 *   drawn, and refitted only when a camera or unit is added or removed: a moving
 *   unit never rescales it (one that drives out of view is reached by zooming out);
 * - zoom with the +/− buttons or the mouse wheel (around the cursor), drag to pan,
 *   "Fit" to go back; tiles are fetched at the zoom level shown;
 * - labels are placed around their marker where they overlap nothing
 *   (src/web/map-labels.ts); a long one is shortened, a crowded one left out, its marker keeps the
 *   name as tooltip and accessible name.
 */
import type { AlertEvent } from '../../realtime/events.ts';
import type { Camera, MapSettings, Unit } from '../api.ts';
import { h, s } from '../dom.ts';
import { formatDistance } from '../format.ts';
import { clampZoom, placeLabels, zoomAround, type Box, type LabelRequest } from '../map-labels.ts';
import { fitProjection, fitTiles, tileUrl, TILE_SIZE, type GeoPoint, type Projection } from '../map-projection.ts';

const W = 420;
const H = 280;
/** How long a camera pulses once it has a new open alert: the three pulses of `.map-camera .pulse` in styles.css. */
const PULSE_MS = 3 * 1600;
const MIN_ZOOM = 0.25;
const MAX_ZOOM = 16;

export interface CameraMapData {
  cameras: readonly Camera[];
  units: readonly Unit[];
  openAlerts: readonly AlertEvent[];
  /** Enabled cameras that stopped sending frames (domain/camera-health.ts): drawn hollow, said in their label. */
  silentCameraIds: ReadonlySet<string>;
  settings: MapSettings | null;
}

export interface CameraMap {
  el: HTMLElement;
  update(data: CameraMapData): void;
}

type TileFit = ReturnType<typeof fitTiles>;

export function createCameraMap(onCamera: (cameraId: string) => void): CameraMap {
  const svg = s('svg', { class: 'map', viewBox: `0 0 ${W} ${H}`, role: 'group' });
  const zoomIn = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Zoom in' }, '+');
  const zoomOut = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Zoom out' }, '−');
  const fit = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Fit all cameras' }, 'Fit');
  const controls = h('div', { class: 'map-controls', role: 'group', 'aria-label': 'Map zoom' }, zoomIn, zoomOut, fit);
  const el = h('div', { class: 'map-wrap' }, svg, controls);

  /** The zoom buttons' area in map coordinates (the map is scaled to its box), so no label hides under them. */
  function controlsBox(): Box[] {
    const map = svg.getBoundingClientRect();
    const c = controls.getBoundingClientRect();
    if (map.width === 0 || c.width === 0) return [];
    const k = W / map.width;
    return [{ x0: (c.left - map.left) * k, y0: (c.top - map.top) * k, x1: (c.right - map.left) * k, y1: (c.bottom - map.top) * k }];
  }

  let data: CameraMapData = { cameras: [], units: [], openAlerts: [], silentCameraIds: new Set(), settings: null };
  let base: Projection = fitProjection([], W, H, 32);
  let tileFit: TileFit | null = null;
  let baseKey = '';
  let zoom = 1;
  let centre = { x: W / 2, y: H / 2 };

  /**
   * Per alerting camera, its newest open alert and when the map first showed it. The map is redrawn on every
   * update, zoom and drag: its pulse continues from there, and then the ring stays still (WCAG 2.2.2: nothing
   * moves for more than 5 s).
   */
  const pulses = new Map<string, { alertId: string; since: number }>();
  function pulseRing(cameraId: string, newestAlertId: string, at: { x: number; y: number }, now: number): SVGElement {
    let p = pulses.get(cameraId);
    if (p?.alertId !== newestAlertId) pulses.set(cameraId, (p = { alertId: newestAlertId, since: now }));
    const ring = s('circle', { class: 'pulse', cx: at.x, cy: at.y, r: 14 });
    const elapsed = now - p.since;
    if (elapsed >= PULSE_MS) ring.classList.add('is-still');
    else ring.style.animationDelay = `-${Math.round(elapsed)}ms`; // through the CSSOM: the CSP refuses style attributes
    return ring;
  }

  const toScreen = (p: { x: number; y: number }) => ({ x: (p.x - centre.x) * zoom + W / 2, y: (p.y - centre.y) * zoom + H / 2 });

  function setZoom(next: number, at = { x: W / 2, y: H / 2 }): void {
    const z = clampZoom(next, MIN_ZOOM, MAX_ZOOM);
    if (z === zoom) return;
    centre = zoomAround(centre, zoom, z, at, W, H);
    zoom = z;
    draw();
  }
  zoomIn.addEventListener('click', () => setZoom(zoom * 2));
  zoomOut.addEventListener('click', () => setZoom(zoom / 2));
  fit.addEventListener('click', () => {
    zoom = 1;
    centre = { x: W / 2, y: H / 2 };
    draw();
  });
  const canvasPoint = (ev: MouseEvent) => {
    const r = svg.getBoundingClientRect();
    return { x: ((ev.clientX - r.left) / r.width) * W, y: ((ev.clientY - r.top) / r.height) * H };
  };
  svg.addEventListener(
    'wheel',
    (ev) => {
      ev.preventDefault(); // the page must not scroll while zooming the map
      setZoom(zoom * (ev.deltaY < 0 ? 1.5 : 1 / 1.5), canvasPoint(ev));
    },
    { passive: false },
  );
  let drag: { x: number; y: number; centre: { x: number; y: number } } | null = null;
  svg.addEventListener('pointerdown', (ev) => {
    if ((ev.target as Element).closest('.map-camera.is-alerting')) return;
    const p = canvasPoint(ev);
    drag = { ...p, centre: { ...centre } };
  });
  svg.addEventListener('pointermove', (ev) => {
    if (!drag || ev.buttons === 0) return;
    const p = canvasPoint(ev);
    centre = { x: drag.centre.x - (p.x - drag.x) / zoom, y: drag.centre.y - (p.y - drag.y) / zoom };
    draw();
  });
  const endDrag = () => {
    drag = null;
  };
  svg.addEventListener('pointerup', endDrag);
  svg.addEventListener('pointerleave', endDrag);

  function cameraPoints() {
    // Cameras known only through alerts (e.g. a dispatcher who may not list cameras) still appear.
    const cams = new Map<string, { id: string; name: string } & GeoPoint>();
    for (const c of data.cameras) cams.set(c.id, { id: c.id, name: c.name, latitude: c.latitude, longitude: c.longitude });
    for (const a of data.openAlerts) if (!cams.has(a.cameraId)) cams.set(a.cameraId, { id: a.cameraId, name: a.camera.name, latitude: a.camera.latitude, longitude: a.camera.longitude });
    return cams;
  }

  function draw(): void {
    const cams = cameraPoints();
    const placed = data.units.filter((u): u is Unit & { latitude: number; longitude: number } => u.latitude !== null && u.longitude !== null);
    const newestOpen = new Map<string, AlertEvent>();
    for (const a of data.openAlerts) {
      const n = newestOpen.get(a.cameraId);
      if (!n || a.createdAt > n.createdAt) newestOpen.set(a.cameraId, a);
    }
    const alerting = new Set(newestOpen.keys());
    for (const id of pulses.keys()) if (!alerting.has(id)) pulses.delete(id);
    const now = performance.now();
    const silent = data.silentCameraIds.size ? `, ${data.silentCameraIds.size} silent` : '';
    svg.setAttribute('aria-label', `Camera map: ${cams.size} cameras, ${alerting.size} with open alerts${silent}, ${placed.length} units placed`);
    svg.replaceChildren();

    if (tileFit && data.settings?.tileUrl) drawTiles(tileFit, data.settings.tileUrl);
    else {
      // The grid moves and scales with the view, so panning and zooming are visible without tiles.
      const step = 35 * zoom >= 20 ? 35 * zoom : 35 * zoom * Math.ceil(20 / (35 * zoom));
      const o = toScreen({ x: 0, y: 0 });
      for (let x = ((o.x % step) + step) % step; x <= W; x += step) svg.append(s('line', { class: 'map-grid', x1: x, x2: x, y1: 0, y2: H }));
      for (let y = ((o.y % step) + step) % step; y <= H; y += step) svg.append(s('line', { class: 'map-grid', x1: 0, x2: W, y1: y, y2: y }));
    }

    const labels: (LabelRequest & { group: SVGGElement })[] = [];
    const cameraEls: { hot: boolean; req: LabelRequest & { group: SVGGElement } }[] = [];
    for (const c of cams.values()) {
      const p = toScreen(base.project(c));
      const hot = alerting.has(c.id);
      const silent = data.silentCameraIds.has(c.id);
      const state = [hot ? 'open alert' : null, silent ? 'silent: no frames' : null].filter(Boolean).join(', ');
      const g = s(
        'g',
        {
          class: `map-camera${hot ? ' is-alerting' : ''}${silent ? ' is-silent' : ''}`,
          role: hot ? 'button' : 'img',
          tabindex: hot ? 0 : null,
          'aria-label': `Camera ${c.name}${state ? `, ${state}` : ''}`,
          'data-camera-id': c.id,
        },
        s('title', {}, silent ? `${c.name} (silent: no frames)` : c.name),
        hot ? pulseRing(c.id, newestOpen.get(c.id)!.id, p, now) : null,
        s('circle', { cx: p.x, cy: p.y, r: 6 }),
      );
      if (hot) {
        g.addEventListener('click', () => onCamera(c.id));
        g.addEventListener('keydown', (ev) => {
          if ((ev as KeyboardEvent).key === 'Enter' || (ev as KeyboardEvent).key === ' ') {
            ev.preventDefault();
            onCamera(c.id);
          }
        });
      }
      cameraEls.push({ hot, req: { id: `c:${c.id}`, x: p.x, y: p.y, radius: hot ? 9 : 7, text: c.name.length > 22 ? `${c.name.slice(0, 21)}…` : c.name, group: g } });
    }
    const unitEls: (LabelRequest & { group: SVGGElement })[] = [];
    for (const u of placed) {
      const p = toScreen(base.project(u));
      const g = s(
        'g',
        { class: `map-unit unit-${u.status}`, role: 'img', 'aria-label': `Unit ${u.callSign}, ${u.status.toLowerCase().replace('_', ' ')}`, 'data-unit-id': u.id },
        s('title', {}, `${u.callSign} (${u.status})`),
        s('rect', { x: p.x - 6, y: p.y - 6, width: 12, height: 12, rx: 2 }),
      );
      unitEls.push({ id: `u:${u.id}`, x: p.x, y: p.y, radius: 7, text: u.callSign, group: g });
    }
    // Label priority: cameras with an open alert, then units, then quiet cameras.
    labels.push(...cameraEls.filter((c) => c.hot).map((c) => c.req), ...unitEls, ...cameraEls.filter((c) => !c.hot).map((c) => c.req));
    for (const l of [...unitEls, ...cameraEls.map((c) => c.req)]) svg.append(l.group);
    const spots = new Map(placeLabels(labels, W, H, controlsBox()).map((p) => [p.id, p]));
    for (const l of labels) {
      const spot = spots.get(l.id);
      if (spot) l.group.append(s('text', { x: spot.x, y: spot.y, 'text-anchor': spot.anchor }, spot.text));
    }

    if (cams.size === 0) svg.append(s('text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'No cameras registered'));
    // Scale bar: 80 px.
    svg.append(
      s('g', { class: 'map-scale', 'aria-hidden': 'true' },
        s('line', { x1: 12, x2: 92, y1: H - 14, y2: H - 14 }),
        s('text', { x: 12, y: H - 20 }, formatDistance((80 * base.metersPerPixel) / zoom))),
    );
    if (tileFit && data.settings?.attribution) {
      svg.append(s('text', { class: 'map-attribution', x: W - 4, y: H - 4, 'text-anchor': 'end' }, data.settings.attribution));
    }
    zoomIn.disabled = zoom >= MAX_ZOOM;
    zoomOut.disabled = zoom <= MIN_ZOOM;
  }

  /** Tiles at the zoom level shown (base level + whole zoom steps), covering the canvas. */
  function drawTiles(t: TileFit, template: string): void {
    const steps = zoom >= 1 ? Math.floor(Math.log2(zoom) + 1e-9) : -Math.ceil(Math.log2(1 / zoom) - 1e-9);
    const z = Math.max(0, t.zoom + steps);
    const k = 2 ** (z - t.zoom); // tile-level pixels per base pixel
    const size = (TILE_SIZE / k) * zoom; // screen size of one tile
    const n = 2 ** z;
    // Base canvas coordinates of the screen's corners, then tile indices.
    const left = centre.x - W / 2 / zoom + t.origin.x;
    const top = centre.y - H / 2 / zoom + t.origin.y;
    const x0 = Math.floor((left * k) / TILE_SIZE);
    const y0 = Math.max(0, Math.floor((top * k) / TILE_SIZE));
    const x1 = Math.floor(((left + W / zoom) * k) / TILE_SIZE);
    const y1 = Math.min(n - 1, Math.floor(((top + H / zoom) * k) / TILE_SIZE));
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > 64) return; // zoomed far out: no tile storm, the markers remain
    for (let ty = y0; ty <= y1; ty++) {
      for (let tx = x0; tx <= x1; tx++) {
        const p = toScreen({ x: (tx * TILE_SIZE) / k - t.origin.x, y: (ty * TILE_SIZE) / k - t.origin.y });
        svg.append(
          s('image', {
            class: 'map-tile',
            href: tileUrl(template, { z, x: ((tx % n) + n) % n, y: ty }),
            x: Math.round(p.x * 100) / 100,
            y: Math.round(p.y * 100) / 100,
            width: size,
            height: size,
            preserveAspectRatio: 'none',
          }),
        );
      }
    }
  }

  return {
    el,
    update(next) {
      data = next;
      const cams = [...cameraPoints().values()];
      const placed = data.units.filter((u): u is Unit & { latitude: number; longitude: number } => u.latitude !== null && u.longitude !== null);
      // Refit when cameras change or a unit appears / disappears, never when a unit only moves:
      // the key has camera positions but only unit ids.
      const key = [
        data.settings?.tileUrl ?? '',
        cams.map((p) => `${p.latitude.toFixed(5)},${p.longitude.toFixed(5)}`).sort().join(';'),
        placed.map((u) => u.id).sort().join(';'),
      ].join('|');
      if (key !== baseKey) {
        baseKey = key;
        const fitPoints: GeoPoint[] = [...cams, ...placed];
        tileFit = data.settings?.tileUrl ? fitTiles(fitPoints, W, H, data.settings.maxZoom, 32) : null;
        base = tileFit ?? fitProjection(fitPoints, W, H, 32);
      }
      draw();
    },
  };
}
