/**
 * The dashboard's two links to a city's other systems, in Chromium against the
 * real system (API + worker + dashboard):
 * - the dispatcher map over a configured tile server (MASKWATCH_MAP_TILE_URL):
 *   a local tile server on another origin receives exactly the tiles the map
 *   draws — so the CSP lets them through — with the attribution shown;
 * - the admin's webhook delivery log (MASKWATCH_WEBHOOKS): a real alert is
 *   POSTed to a local control-room receiver that fails once, and the admin sees
 *   the failed attempt and the delivered retry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { call } from '../helpers/api.ts';
import { waitFor } from '../faults/processes.ts';
import { withTimeout } from '../helpers/wait.ts';
import { buildDashboard, DESK, launchBrowser, login, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';
const ATTRIBUTION = '© Test tiles of Madrid';
const UNMASKED_FACE = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets', 'prajna', 'without_mask', '10.jpg');

let tiles: Server;
let receiver: Server;
let system: System;
let desk: Browser;
let cameraKey: string;
const requested = new Set<string>();
let onTile = () => {};
/** Control-room receiver: answers 503 to the first delivery, 204 after; resolves once one succeeded. */
let cadCalls = 0;
let deliveredOnce: () => void;
const delivered = new Promise<void>((resolve) => (deliveredOnce = resolve));

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
  receiver = createServer((req, res) => {
    req.resume().on('end', () => {
      const ok = ++cadCalls > 1;
      res.writeHead(ok ? 204 : 503).end();
      if (ok) deliveredOnce();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = { name: 'city-cad', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cad`, secret: 'control-room-shared-secret-0123', events: ['alert.created'] };
  await buildDashboard();
  system = await startSystem(
    { username: 'chief', password: PASSWORD },
    { MASKWATCH_MAP_TILE_URL: `${tileBase}/{z}/{x}/{y}.png`, MASKWATCH_MAP_ATTRIBUTION: ATTRIBUTION, MASKWATCH_WEBHOOKS: JSON.stringify([hook]) },
  );
  const admin = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } })).body.token as string;
  assert.equal((await call(system.url, 'POST', '/api/v1/users', { token: admin, json: { username: 'dispatch-map', password: PASSWORD, role: 'DISPATCHER' } })).status, 201);
  for (const [name, latitude, longitude] of [['Puerta del Sol', 40.4169, -3.7035], ['Atocha station', 40.4065, -3.6895]] as const) {
    const cam = await call(system.url, 'POST', '/api/v1/cameras', { token: admin, json: { name, latitude, longitude } });
    assert.equal(cam.status, 201);
    cameraKey = cam.body.apiKey;
  }
  desk = await launchBrowser(DESK);
});

after(async () => {
  await desk?.close();
  await system?.close();
  await new Promise((resolve) => tiles?.close(resolve));
  await new Promise((resolve) => receiver?.close(resolve));
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

test('the admin sees each webhook delivery attempt: the failed one and the delivered retry', async () => {
  const res = await fetch(`${system.url}/api/v1/frames`, { method: 'POST', headers: { authorization: `Bearer ${cameraKey}`, 'content-type': 'image/jpeg' }, body: await readFile(UNMASKED_FACE) });
  assert.equal(res.status, 202);
  await withTimeout(delivered, 'the webhook retry to reach the receiver', 90_000);
  // The retry's audit row is written just after the receiver answers: wait for both rows before opening the page.
  await waitFor('both attempts logged', async () => (await system.db.prisma.auditEvent.count({ where: { action: { in: ['webhook.failed', 'webhook.delivered'] } } })) >= 2 || null);
  const page = await desk.context.newPage();
  await login(page, system.url, 'chief', PASSWORD);
  await page.getByRole('tab', { name: 'Webhooks' }).click();
  const table = page.getByRole('table', { name: 'Webhook deliveries' });
  const rows = table.locator('tbody tr');
  await rows.nth(1).waitFor();
  const text = await rows.allInnerTexts();
  assert.equal(text.length, 2, text.join('\n'));
  assert.match(text[0]!, /city-cad\s+alert\.created\s+2\s+delivered\s+HTTP 204/i);
  assert.match(text[1]!, /city-cad\s+alert\.created\s+1\s+failed\s+receiver answered 503 — will retry/i);
  await page.getByLabel('Show').selectOption('failed');
  await table.locator('tbody tr').nth(0).getByText('failed').waitFor();
  assert.equal(await rows.count(), 1);
  assert.equal(await page.getByRole('button', { name: 'Load more' }).isHidden(), true, 'nothing more to load: no button');
  await screenshot(page, 'admin-webhooks', 'admin-webhooks');
  assert.deepEqual(desk.errors, []);
  await page.close();
});
