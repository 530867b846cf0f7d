/**
 * The dispatcher map over a configured tile server (MASKWATCH_MAP_TILE_URL), in
 * Chromium against the real system: a local HTTP tile server on another origin
 * receives exactly the tile requests the map draws — so the CSP lets them
 * through — and the cameras sit on the map with the attribution shown.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { call } from '../helpers/api.ts';
import { buildDashboard, launchBrowser, login, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';
const ATTRIBUTION = '© Test tiles of Madrid';

let tiles: Server;
let system: System;
let desk: Browser;
const requested = new Set<string>();
let onTile = () => {};

before(async () => {
  const png = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#c8d8c0' } }).png().toBuffer();
  tiles = createServer((req, res) => {
    const ok = /^\/\d+\/\d+\/\d+\.png$/.test(req.url ?? '');
    if (ok) requested.add(req.url!);
    res.writeHead(ok ? 200 : 404, { 'content-type': 'image/png' }).end(ok ? png : undefined);
    onTile();
  });
  await new Promise<void>((resolve) => tiles.listen(0, '127.0.0.1', resolve));
  const tileBase = `http://127.0.0.1:${(tiles.address() as AddressInfo).port}`;
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD }, { MASKWATCH_MAP_TILE_URL: `${tileBase}/{z}/{x}/{y}.png`, MASKWATCH_MAP_ATTRIBUTION: ATTRIBUTION });
  const admin = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  assert.equal((await call(system.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'dispatch-map', password: PASSWORD, role: 'DISPATCHER' } })).status, 201);
  for (const [name, latitude, longitude] of [['Puerta del Sol', 40.4169, -3.7035], ['Atocha station', 40.4065, -3.6895]] as const) {
    assert.equal((await call(system.url, 'POST', '/api/v1/cameras', { token: admin, json: { name, latitude, longitude } })).status, 201);
  }
  desk = await launchBrowser({ viewport: { width: 1440, height: 900 } });
});

after(async () => {
  await desk?.close();
  await system?.close();
  await new Promise((resolve) => tiles?.close(resolve));
});

test('the dispatcher map draws the configured tiles under the cameras, with the attribution', async () => {
  const page = await desk.context.newPage();
  await login(page, system.url, 'dispatch-map', PASSWORD);
  const map = page.locator('svg.map');
  await map.locator('image.map-tile').first().waitFor({ state: 'attached' });
  await map.getByRole('img', { name: 'Camera Atocha station' }).waitFor();
  const hrefs = await map.locator('image.map-tile').evaluateAll((els) => els.map((e) => e.getAttribute('href')!));
  const paths = hrefs.map((h) => new URL(h).pathname);
  assert.ok(paths.length >= 2, `tiles drawn: ${paths.join(' ')}`);
  // Every drawn tile reaches the tile server (another origin: allowed by the CSP's img-src).
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tile server got ${[...requested].join(' ')}; map drew ${paths.join(' ')}`)), 30_000);
    onTile = () => {
      if (paths.every((p) => requested.has(p))) {
        clearTimeout(timer);
        resolve();
      }
    };
    onTile();
  });
  // All at one zoom level, and that zoom shows Madrid's centre (z ≥ 12 for cameras ~1.7 km apart).
  const zooms = new Set(paths.map((p) => Number(p.split('/')[1])));
  assert.equal(zooms.size, 1);
  assert.ok([...zooms][0]! >= 12, `zoom ${[...zooms][0]}`);
  assert.equal(await map.locator('text.map-attribution').textContent(), ATTRIBUTION);
  // Both cameras are placed inside the map's 420×280 canvas.
  for (const name of ['Puerta del Sol', 'Atocha station']) {
    const cx = Number(await map.getByRole('img', { name: `Camera ${name}` }).locator('circle').last().getAttribute('cx'));
    const cy = Number(await map.getByRole('img', { name: `Camera ${name}` }).locator('circle').last().getAttribute('cy'));
    assert.ok(cx > 0 && cx < 420 && cy > 0 && cy < 280, `${name} at ${cx},${cy}`);
  }
  await screenshot(page, 'dispatcher-map-tiles');
  assert.deepEqual(desk.errors, []);
  await page.close();
});
