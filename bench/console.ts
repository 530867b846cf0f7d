/**
 * `npm run bench:console`: does the dispatcher's console last a whole shift? The real system (`maskwatch start`:
 * API + worker with the real ONNX engine + the built dashboard) and a dispatcher's tab in Debian's Chromium, while
 * BENCH_INCIDENTS incidents (default 300: more than the 200 closed alerts the console keeps) go through their whole
 * life: a camera posts a real still, the alert appears, the dispatcher assigns it, the officer acknowledges it, goes
 * there and resolves it (one in three is dismissed instead), BENCH_OPEN of them (default 6) always waiting.
 *
 * Every BENCH_SAMPLE incidents (default 25) the tab's garbage is collected and Chromium's own counters are read
 * (DevTools Performance.getMetrics): JS heap, DOM nodes, event listeners, and the main thread's busy time per
 * incident. A console that keeps what it no longer shows grows in them; the report gives the growth once the
 * console holds its full quota of closed alerts. The baseline, measured in the same run: the idle cost of the empty console, against the idle cost
 * with the waiting alerts on screen (nothing should run while nothing happens).
 * Writes reports/bench-console.{json,md,png}; asserts nothing.
 */
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { CDPSession } from 'playwright-core';
import { MAX_CLOSED_KEPT } from '../src/web/alert-list.ts';
import { call } from '../test/helpers/api.ts';
import { pollUntil } from '../test/helpers/wait.ts';
import { consolePlotSvg, consoleReport, type ConsoleBenchResult, type IdleCost, type Sample } from './lib/console-report.ts';
import { buildDashboard, closeAll, DESK, launchBrowser, login, ROOT, startSystem, type Browser, type System } from '../test/e2e/support.ts';

const INCIDENTS = Number(process.env.BENCH_INCIDENTS ?? 300);
const OPEN = Number(process.env.BENCH_OPEN ?? 6);
const SAMPLE = Number(process.env.BENCH_SAMPLE ?? 25);
const CAMERAS = 8;
const IDLE_MS = 20_000;
const PASSWORD = 'bench console passphrase';
const ASSETS = process.env.MASKWATCH_ASSETS || path.resolve(ROOT, '..', 'shared');
const FACES_DIR = path.join(ASSETS, 'datasets', 'prajna', 'without_mask');

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics: list } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

/** Main-thread seconds between two readings: scripts, style, layout and the rest of the tasks (paint, GC…). */
const BUSY = ['ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration', 'TaskOtherDuration'];
const busySeconds = (from: Record<string, number>, to: Record<string, number>) => BUSY.reduce((t, k) => t + (to[k] ?? 0) - (from[k] ?? 0), 0);

/** What the tab costs while nothing happens: a measurement window of IDLE_MS (not a wait for anything). */
async function idleCost(cdp: CDPSession): Promise<IdleCost> {
  const from = await metrics(cdp);
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const to = await metrics(cdp);
  const minutes = IDLE_MS / 60_000;
  return {
    busyMsPerMinute: (busySeconds(from, to) * 1000) / minutes,
    stylePerSecond: ((to.RecalcStyleCount ?? 0) - (from.RecalcStyleCount ?? 0)) / (IDLE_MS / 1000),
    layoutPerSecond: ((to.LayoutCount ?? 0) - (from.LayoutCount ?? 0)) / (IDLE_MS / 1000),
  };
}

let system: System | undefined;
let desk: Browser | undefined;
try {
  await buildDashboard();
  system = await startSystem({ username: 'chief', password: PASSWORD });
  const url = system.url;
  const token = async (username: string) => {
    const res = await call(url, 'POST', '/api/v1/auth/login', { json: { username, password: PASSWORD } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.token as string;
  };
  const admin = await token('chief');
  const unit = await call(url, 'POST', '/api/v1/units', { token: admin, json: { callSign: 'P-11', status: 'AVAILABLE', latitude: 40.4195, longitude: -3.7061 } });
  assert.equal(unit.status, 201, JSON.stringify(unit.body));
  const unitId = unit.body.id as string;
  assert.equal((await call(url, 'POST', '/api/v1/users', { token: admin, json: { username: 'ana', password: PASSWORD, role: 'DISPATCHER' } })).status, 201);
  assert.equal((await call(url, 'POST', '/api/v1/users', { token: admin, json: { username: 'luis', password: PASSWORD, role: 'OFFICER', unit: 'P-11' } })).status, 201);
  const cameras: { id: string; key: string }[] = [];
  for (let i = 0; i < CAMERAS; i++) {
    const res = await call(url, 'POST', '/api/v1/cameras', {
      token: admin,
      json: { name: `Street ${i + 1}`, latitude: 40.41 + i / 500, longitude: -3.70 - i / 500, zone: `Zone ${(i % 3) + 1}`, confirmFrames: 1, confirmWindow: 1 },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    cameras.push({ id: res.body.id, key: res.body.apiKey });
  }
  const dispatcher = await token('ana');
  const officer = await token('luis');

  // Real unmasked faces, each put into a grey street-size frame. The place moves from one incident of a camera
  // to its next over a grid of 28, so a new face is a new person, not the track of a dismissed one (a dismissed
  // alert keeps its people, and a track lasts the incident window).
  const files = (await readdir(FACES_DIR)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().slice(0, 40);
  const faces = await Promise.all(files.map(async (f) => sharp(await readFile(path.join(FACES_DIR, f))).resize(140, 140, { fit: 'cover' }).toBuffer()));
  const frameOf = (n: number) => {
    const place = Math.floor(n / CAMERAS) % 28;
    return sharp({ create: { width: 1280, height: 720, channels: 3, background: { r: 96, g: 104, b: 110 } } })
      .composite([{ input: faces[n % faces.length]!, left: 20 + (place % 7) * 175, top: 20 + Math.floor(place / 7) * 175 }])
      .jpeg({ quality: 85 })
      .toBuffer();
  };

  desk = await launchBrowser(DESK);
  const page = await desk.context.newPage();
  await login(page, url, 'ana', PASSWORD);
  const cdp = await desk.context.newCDPSession(page);
  await cdp.send('Performance.enable');

  const idleEmpty = await idleCost(cdp);
  console.log(`idle, empty console: ${idleEmpty.busyMsPerMinute.toFixed(0)} ms of main thread per minute, ${idleEmpty.stylePerSecond.toFixed(1)} style recalculations per second`);

  let requests = 0;
  let lastRequests = 0;
  page.on('request', () => requests++);
  const seen = new Set<string>();
  const open: string[] = [];
  const samples: Sample[] = [];
  let last = await metrics(cdp);
  let lastAt = 0;
  const sample = async (incidents: number) => {
    const m = await metrics(cdp);
    const busyS = busySeconds(last, m);
    const cards = await page.locator('.alert-item').count();
    samples.push({
      incidents,
      heapMb: (m.JSHeapUsedSize ?? 0) / 1048576,
      domNodes: m.Nodes ?? 0,
      listeners: m.JSEventListeners ?? 0,
      cards,
      taskMsPerIncident: incidents > lastAt ? (busyS * 1000) / (incidents - lastAt) : 0,
      requestsPerIncident: incidents > lastAt ? (requests - lastRequests) / (incidents - lastAt) : 0,
    });
    last = m;
    lastRequests = requests;
    lastAt = incidents;
    const s = samples.at(-1)!;
    console.log(`${String(incidents).padStart(5)} incidents  heap ${s.heapMb.toFixed(1)} MB  nodes ${s.domNodes}  listeners ${s.listeners}  cards ${cards}  main thread ${s.taskMsPerIncident.toFixed(1)} ms/incident  ${s.requestsPerIncident.toFixed(1)} requests/incident`);
  };
  await sample(0);

  const close = async (alertId: string, n: number) => {
    if (n % 3 === 2) {
      const r = await call(url, 'POST', `/api/v1/alerts/${alertId}/dismiss`, { token: dispatcher, json: { reason: 'duplicate of an earlier incident' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return;
    }
    for (const [who, step, json] of [
      [dispatcher, 'dispatch', { unitId }],
      [officer, 'acknowledge', {}],
      [officer, 'en-route', {}],
      [officer, 'on-scene', {}],
      [officer, 'resolve', { note: 'spoke to the person', outcome: 'WARNED' }],
    ] as const) {
      const r = await call(url, 'POST', `/api/v1/alerts/${alertId}/${step}`, { token: who, json });
      assert.equal(r.status, 200, `${step}: ${JSON.stringify(r.body)}`);
    }
  };

  for (let n = 0; n < INCIDENTS; n++) {
    const camera = cameras[n % CAMERAS]!;
    const res = await fetch(`${url}/api/v1/frames`, { method: 'POST', headers: { authorization: `Bearer ${camera.key}`, 'content-type': 'image/jpeg' }, body: await frameOf(n) });
    await res.arrayBuffer();
    assert.equal(res.status, 202);
    let alertId = '';
    await pollUntil(
      async () => {
        const items = (await call(url, 'GET', `/api/v1/alerts?cameraId=${camera.id}&limit=5`, { token: admin })).body.items as { id: string }[];
        alertId = items.find((a) => !seen.has(a.id))?.id ?? '';
        return alertId !== '';
      },
      `incident ${n + 1}`,
      60_000,
    );
    seen.add(alertId);
    await page.locator(`.alert-item[data-alert-id="${alertId}"]`).waitFor({ timeout: 30_000 });
    open.push(alertId);
    if (open.length > OPEN) await close(open.shift()!, n);
    if ((n + 1) % SAMPLE === 0) await sample(n + 1);
  }
  // The last arrival's own flash and pulse (a few seconds) are not idle cost: let them end, or say that they do not.
  const settled = await page
    .waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), undefined, { timeout: 15_000 })
    .then(() => true, () => false);
  const idleWaiting = { ...(await idleCost(cdp)), animationsEnded: settled };
  console.log(`idle, ${OPEN} alerts waiting: ${idleWaiting.busyMsPerMinute.toFixed(0)} ms of main thread per minute, ${idleWaiting.stylePerSecond.toFixed(1)} style recalculations per second`);

  const result: ConsoleBenchResult = {
    generatedAt: new Date().toISOString(),
    settings: { incidents: INCIDENTS, open: OPEN, sample: SAMPLE, cameras: CAMERAS, idleWindowMs: IDLE_MS, keptClosed: MAX_CLOSED_KEPT },
    chromium: (await cdp.send('Browser.getVersion')).product,
    loadAverage: os.loadavg(),
    idle: { empty: idleEmpty, waiting: idleWaiting },
    samples,
  };
  const out = path.join(ROOT, 'reports');
  await writeFile(path.join(out, 'bench-console.json'), JSON.stringify(result, null, 2) + '\n');
  await writeFile(path.join(out, 'bench-console.md'), consoleReport(result));
  await sharp(Buffer.from(consolePlotSvg(result))).png().toFile(path.join(out, 'bench-console.png'));
  process.stdout.write(consoleReport(result));
} finally {
  await closeAll(desk, system);
}
