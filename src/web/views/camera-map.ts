/**
 * Camera map in SVG. By default a plain canvas: works with no internet and no
 * tile server. With MASKWATCH_MAP_TILE_URL set, the server's tiles are drawn
 * underneath (Web Mercator) with their attribution. Cameras with an open alert
 * pulse red; units are blue squares at their last reported position.
 */
import type { AlertEvent } from '../../realtime/events.ts';
import type { Camera, MapSettings, Unit } from '../api.ts';
import { s } from '../dom.ts';
import { formatDistance } from '../format.ts';
import { fitProjection, fitTiles, tileUrl, TILE_SIZE, type GeoPoint } from '../map-projection.ts';

const W = 420;
const H = 280;

export function cameraMap(
  cameras: readonly Camera[],
  units: readonly Unit[],
  openAlerts: readonly AlertEvent[],
  settings: MapSettings | null,
  onCamera: (cameraId: string) => void,
): SVGSVGElement {
  // Cameras known only through alerts (e.g. a dispatcher who may not list cameras) still appear.
  const cams = new Map<string, { id: string; name: string } & GeoPoint>();
  for (const c of cameras) cams.set(c.id, { id: c.id, name: c.name, latitude: c.latitude, longitude: c.longitude });
  for (const a of openAlerts) if (!cams.has(a.cameraId)) cams.set(a.cameraId, { id: a.cameraId, name: a.camera.name, latitude: a.camera.latitude, longitude: a.camera.longitude });
  const placed = units.filter((u): u is Unit & { latitude: number; longitude: number } => u.latitude !== null && u.longitude !== null);
  const points = [...cams.values(), ...placed];
  const tiles = settings?.tileUrl ? fitTiles(points, W, H, settings.maxZoom, 32) : null;
  const proj = tiles ?? fitProjection(points, W, H, 32);
  const alerting = new Set(openAlerts.map((a) => a.cameraId));

  const svg = s(
    'svg',
    { class: 'map', viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-label': `Camera map: ${cams.size} cameras, ${alerting.size} with open alerts, ${placed.length} units placed` },
  );
  if (tiles && settings?.tileUrl) {
    for (const t of tiles.tiles) {
      svg.append(s('image', { class: 'map-tile', href: tileUrl(settings.tileUrl, t), x: t.left, y: t.top, width: TILE_SIZE, height: TILE_SIZE, preserveAspectRatio: 'none' }));
    }
  } else {
    for (let x = 0; x <= W; x += 35) svg.append(s('line', { class: 'map-grid', x1: x, x2: x, y1: 0, y2: H }));
    for (let y = 0; y <= H; y += 35) svg.append(s('line', { class: 'map-grid', x1: 0, x2: W, y1: y, y2: y }));
  }

  for (const u of placed) {
    const p = proj.project(u);
    svg.append(
      s('g', { class: `map-unit unit-${u.status}`, role: 'img', 'aria-label': `Unit ${u.callSign}, ${u.status.toLowerCase()}` },
        s('title', {}, `${u.callSign} (${u.status})`),
        s('rect', { x: p.x - 6, y: p.y - 6, width: 12, height: 12, rx: 2 }),
        s('text', { x: p.x + 9, y: p.y + 4 }, u.callSign)),
    );
  }
  for (const c of cams.values()) {
    const p = proj.project(c);
    const hot = alerting.has(c.id);
    const g = s(
      'g',
      { class: `map-camera${hot ? ' is-alerting' : ''}`, role: hot ? 'button' : 'img', tabindex: hot ? 0 : null, 'aria-label': `Camera ${c.name}${hot ? ', open alert' : ''}` },
      s('title', {}, c.name),
      hot ? s('circle', { class: 'pulse', cx: p.x, cy: p.y, r: 14 }) : null,
      s('circle', { cx: p.x, cy: p.y, r: 6 }),
      s('text', { x: p.x + 10, y: p.y - 8 }, c.name.length > 22 ? `${c.name.slice(0, 21)}…` : c.name),
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
    svg.append(g);
  }
  if (cams.size === 0) svg.append(s('text', { class: 'empty', x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'No cameras registered'));
  // Scale bar: 80 px.
  svg.append(
    s('g', { class: 'map-scale', 'aria-hidden': 'true' },
      s('line', { x1: 12, x2: 92, y1: H - 14, y2: H - 14 }),
      s('text', { x: 12, y: H - 20 }, formatDistance(80 * proj.metersPerPixel))),
  );
  if (tiles && settings?.attribution) {
    svg.append(s('text', { class: 'map-attribution', x: W - 4, y: H - 4, 'text-anchor': 'end' }, settings.attribution));
  }
  return svg;
}
