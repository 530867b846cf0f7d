/**
 * The evidence viewer in Chromium against the real system: a crowd frame from
 * a snapshot camera becomes one alert with its people (the photo's three bare
 * faces, and a fourth the head may read either way); the dispatcher's
 * detail lists them numbered, draws their boxes on the annotated frame with the
 * selected person highlighted, follows a click on another person, zooms, and
 * shows the person's crops over time. An edge camera's alert (detections and
 * face crops only) shows its people and says there is no frame.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import path from 'node:path';
import { call } from '../helpers/api.ts';
import { buildDashboard, launchBrowser, login, screenshot, startSystem, type Browser, type System } from './support.ts';

const PASSWORD = 'correct horse battery staple';
const DATASETS = path.join(process.env.MASKWATCH_ASSETS || path.resolve('..', 'shared'), 'datasets');
const GROUP = path.join(DATASETS, 'scenes', 'group-faces.jpg');

let system: System;
let desk: Browser;
let apiKey: string;
let edgeKey: string;

before(async () => {
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD });
  const login = await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'chief', password: PASSWORD } });
  assert.equal(login.status, 200);
  const token = login.body.token as string;
  assert.equal((await call(system.url, 'POST', '/api/v1/users', { token, json: { username: 'dispatch1', password: PASSWORD, role: 'DISPATCHER' } })).status, 201);
  const cam = await call(system.url, 'POST', '/api/v1/cameras', {
    token,
    json: { name: 'Plaza Mayor', latitude: 40.4155, longitude: -3.7074, address: 'Plaza Mayor 1, Madrid', confirmFrames: 1, confirmWindow: 1 },
  });
  assert.equal(cam.status, 201);
  apiKey = cam.body.apiKey;
  const edge = await call(system.url, 'POST', '/api/v1/cameras', {
    token,
    json: { name: 'Edge kiosk', latitude: 40.4168, longitude: -3.7038, address: 'Calle Mayor 2, Madrid', confirmFrames: 1, confirmWindow: 1 },
  });
  assert.equal(edge.status, 201);
  edgeKey = edge.body.apiKey;
  desk = await launchBrowser({ viewport: { width: 1440, height: 900 } });
});

after(async () => {
  await desk?.close();
  await system?.close();
});

test('a crowd is one card listing its people; the evidence viewer highlights the chosen person', async () => {
  const page = await desk.context.newPage();
  await login(page, system.url, 'dispatch1', PASSWORD);
  await page.locator('.conn-live').waitFor();
  const res = await fetch(`${system.url}/api/v1/frames`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'image/jpeg' },
    body: await readFile(GROUP),
  });
  assert.equal(res.status, 202);

  const item = page.locator('.alert-item', { hasText: 'Plaza Mayor' });
  await item.waitFor();
  assert.equal(await page.locator('.alert-item', { hasText: 'Plaza Mayor' }).count(), 1, 'one card for the crowd');
  const meta = item.locator('.alert-meta', { hasText: /[34] people/ });
  await meta.waitFor();
  const n = Number(/([34]) people/.exec(await meta.innerText())![1]);
  // The card agrees with the API's alert.
  const token = (await call(system.url, 'POST', '/api/v1/auth/login', { json: { username: 'dispatch1', password: PASSWORD } })).body.token as string;
  const alerts = await call(system.url, 'GET', '/api/v1/alerts', { token });
  assert.deepEqual(alerts.body.items.map((a: { people: unknown[] }) => a.people.length), [n]);
  await item.click();

  const people = page.getByRole('list', { name: 'People in this incident' }).locator('.evidence-person');
  await people.nth(n - 1).waitFor();
  assert.equal(await people.count(), n);
  await page.locator('img.evidence-frame[src^="data:image/jpeg"]').waitFor();
  const boxes = page.locator('.evidence-overlay rect.person-box');
  await boxes.nth(n - 1).waitFor({ state: 'attached' });
  assert.equal(await boxes.count(), n);
  assert.deepEqual(
    await page.locator('.evidence-overlay text.person-number').allTextContents(),
    Array.from({ length: n }, (_, i) => String(i + 1)),
  );

  // The first person is selected: its button is pressed and only its box is highlighted.
  const first = (await people.nth(0).getAttribute('data-person-id'))!;
  assert.equal(await people.nth(0).getAttribute('aria-pressed'), 'true');
  assert.deepEqual(await page.locator('.evidence-overlay rect.person-box.selected').evaluateAll((els) => els.map((e) => e.getAttribute('data-person-id'))), [first]);

  // Choosing person 3 moves the highlight.
  await people.nth(2).click();
  const third = (await people.nth(2).getAttribute('data-person-id'))!;
  await page.locator(`.evidence-overlay rect.person-box.selected[data-person-id="${third}"]`).waitFor({ state: 'attached' });
  assert.equal(await page.locator('.evidence-overlay rect.person-box.selected').count(), 1);
  assert.equal(await people.nth(0).getAttribute('aria-pressed'), 'false');

  // Zoom in on the chosen person, and back (the viewer's buttons: the camera map has its own zoom).
  const viewer = page.getByRole('region', { name: 'Evidence' });
  await viewer.getByRole('button', { name: 'Zoom in' }).click();
  await viewer.getByRole('button', { name: 'Zoom in' }).click();
  assert.match((await page.locator('.evidence-canvas').getAttribute('style')) ?? '', /scale\(2\)/);
  await page.locator('.evidence-zoom-label', { hasText: '200 %' }).waitFor();
  // The chosen person is brought into view, whole, wherever it stands in the frame (the zoom animates: poll).
  await page
    .waitForFunction(
      (id) => {
        const stage = document.querySelector('.evidence-stage')!.getBoundingClientRect();
        const box = document.querySelector(`.evidence-overlay rect.person-box[data-person-id="${id}"]`)!.getBoundingClientRect();
        return box.width > 0 && box.left >= stage.left - 1 && box.right <= stage.right + 1 && box.top >= stage.top - 1 && box.bottom <= stage.bottom + 1;
      },
      third,
      { timeout: 5000 },
    )
    .catch(() => assert.fail('person 3 is not wholly inside the evidence stage at 200 %'));
  // The viewer takes the detail's whole width, not a thumbnail's column.
  const widths = await page.evaluate(() => [document.querySelector('.evidence')!.getBoundingClientRect().width, document.querySelector('.snapshots')!.getBoundingClientRect().width]);
  assert.ok(widths[0]! >= widths[1]! - 1, `evidence viewer ${widths[0]} px wide in a ${widths[1]} px detail`);

  // The track's crops over time (one frame: one crop).
  await page.locator('.evidence-track img.track-shot[src^="data:image/jpeg"]').first().waitFor();
  await screenshot(page, 'evidence-viewer', 'evidence-viewer');
  await viewer.getByRole('button', { name: 'Fit' }).click();
  await page.locator('.evidence-zoom-label', { hasText: '100 %' }).waitFor();
  assert.deepEqual(desk.errors, []);
});

test("an edge camera's alert: its people from the uploaded crops, and no frame to zoom", async () => {
  const page = await desk.context.newPage();
  await login(page, system.url, 'dispatch1', PASSWORD);
  await page.locator('.conn-live').waitFor();
  // What `maskwatch agent --analyze` uploads for a frame with one bare face: the box, the classifier's verdict and the crop.
  const crop = await sharp(await readFile(GROUP)).resize(96, 96, { fit: 'cover' }).jpeg().toBuffer();
  const res = await call(system.url, 'POST', '/api/v1/detections', {
    token: edgeKey,
    json: {
      capturedAt: new Date().toISOString(),
      width: 640,
      height: 480,
      faces: [{ box: [200, 120, 90, 110], score: 0.97, probabilities: { mask: 0.01, no_mask: 0.98, mask_incorrect: 0.01 }, crop: crop.toString('base64') }],
    },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.violations, 1);

  const item = page.locator('.alert-item', { hasText: 'Edge kiosk' });
  await item.waitFor();
  await item.click();
  const people = page.getByRole('list', { name: 'People in this incident' }).locator('.evidence-person');
  await people.first().locator('img.person-shot[src^="data:image/jpeg"]').waitFor();
  assert.equal(await people.count(), 1);
  const viewer = page.getByRole('region', { name: 'Evidence' });
  await viewer.getByText('No frame: analysed on site').waitFor();
  // The stage shows the chosen person's crop instead, large.
  const shown = viewer.locator('.evidence-stage img.evidence-crop[src^="data:image/jpeg"]');
  await shown.waitFor();
  assert.ok((await shown.evaluate((img: HTMLImageElement) => img.getBoundingClientRect().height)) >= 150, 'the crop is shown large');
  assert.equal(await viewer.getByRole('button', { name: 'Zoom in' }).isHidden(), true, 'no zoom without a frame');
  await screenshot(page, 'evidence-viewer-edge');
  assert.deepEqual(desk.errors, []);
});
