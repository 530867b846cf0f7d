/**
 * E2E support (not a test file): the whole system as a user runs it
 * (`maskwatch start`: API serving the built dashboard + a detection worker
 * process with the real vision engine), isolated by temp dir, database file and
 * queue prefix; and Debian's Chromium driven by playwright-core.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { deleteRedisPrefix, REDIS_URL, tempDir, uniquePrefix } from '../helpers/env.ts';
import { call } from '../helpers/api.ts';
import { pollUntil, withTimeout } from '../helpers/wait.ts';
import { openDatabase, type Database } from '../../src/db/client.ts';

export const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const WEB_ROOT = path.join(ROOT, 'src/web/dist');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'e2e');
export const DOCS_SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Builds the dashboard exactly as `npm run build:web` does. */
export async function buildDashboard(): Promise<void> {
  await build({ configFile: path.join(ROOT, 'src/web/vite.config.ts'), logLevel: 'warn' });
}

export interface System {
  /** http://127.0.0.1:PORT of the API + dashboard. */
  url: string;
  /** The same database, opened by the test for assertions. */
  db: Database;
  close(): Promise<void>;
}

/**
 * `maskwatch start` exactly as a user runs it (API + one worker process + the
 * dashboard), on a free port, with its own data dir / SQLite file and queue
 * prefix, and the first admin from the environment. Resolves once the banner
 * has printed the URL and a worker has loaded its models.
 */
export async function startSystem(admin: { username: string; password: string }, env: Record<string, string> = {}): Promise<System> {
  const tmp = await tempDir('maskwatch-e2e');
  const prefix = uniquePrefix('e2e');
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/maskwatch.js'), 'start', '--workers', '1'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MASKWATCH_DATA_DIR: tmp.dir,
      DATABASE_URL: `file:${path.join(tmp.dir, 'maskwatch.db')}`,
      REDIS_URL,
      MASKWATCH_QUEUE_PREFIX: prefix,
      MASKWATCH_ADMIN_USER: admin.username,
      MASKWATCH_ADMIN_PASSWORD: admin.password,
      // These tests are not about the first-login password change (security-accounts tests it).
      MASKWATCH_ADMIN_MUST_CHANGE_PASSWORD: 'false',
      LOG_LEVEL: 'info',
      // The e2e scenarios post single stills: snapshot cameras (1 of 1) unless a test says otherwise.
      MASKWATCH_CONFIRM_FRAMES: '1',
      MASKWATCH_CONFIRM_WINDOW: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const stopped = once(child, 'exit');
  let url: string;
  try {
    url = await withTimeout(new Promise<string>((resolve, reject) => {
      let found: string | null = null;
      let workerReady = false;
      // Log records on stdout, the start-up summary (the URL) on stderr.
      const onLine = (line: string) => {
        output.push(line);
        const m = /API \+ dashboard\s+(http:\/\/\S+?)\/?$/.exec(line);
        if (m) found = m[1]!;
        if (line.includes('"worker ready"')) workerReady = true;
        if (found && workerReady) resolve(found);
      };
      createInterface({ input: child.stdout! }).on('line', onLine);
      createInterface({ input: child.stderr! }).on('line', onLine);
      child.once('exit', (code) => reject(new Error(`maskwatch start exited (${code}):\n${output.slice(-40).join('\n')}`)));
    }), 'maskwatch start to print its URL and a worker to be ready', 240_000);
  } catch (err) {
    if (child.exitCode === null) {
      child.kill('SIGKILL'); // not ready in time: leave no system behind
      await stopped;
    }
    await tmp.cleanup();
    throw err;
  }
  const db = await openDatabase(`file:${path.join(tmp.dir, 'maskwatch.db')}`, { migrate: false });
  return {
    url,
    db,
    async close() {
      await db.close();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await stopped;
      }
      await deleteRedisPrefix(REDIS_URL, prefix);
      await tmp.cleanup();
    },
  };
}

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  /** JS errors and console errors seen on any page: a test asserts there were none. */
  errors: string[];
  close(): Promise<void>;
}

export interface BrowserOptions {
  viewport: { width: number; height: number };
  mobile?: boolean;
}
/** A dispatcher's desktop and an officer's phone. */
export const DESK: BrowserOptions = { viewport: { width: 1440, height: 900 } };
export const PHONE: BrowserOptions = { viewport: { width: 390, height: 844 }, mobile: true };

/** What a file's before() opened, closed in order (browsers before the system they talk to); skips what never opened. */
export async function closeAll(...open: ({ close(): Promise<void> } | undefined)[]): Promise<void> {
  for (const o of open) await o?.close();
}

export async function launchBrowser(opts: BrowserOptions): Promise<Browser> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'maskwatch-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: opts.viewport,
    deviceScaleFactor: opts.mobile ? 2 : 1,
    isMobile: opts.mobile ?? false,
    hasTouch: opts.mobile ?? false,
    acceptDownloads: true,
    colorScheme: 'dark',
  });
  context.setDefaultTimeout(60_000);
  const errors: string[] = [];
  const watch = (page: Page) => {
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
    });
    // Any dialog would be an XSS payload firing (the flow under test never opens one).
    page.on('dialog', (d) => {
      errors.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    errors,
    async close() {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function login(page: Page, baseUrl: string, username: string, password: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

/**
 * Saves a screenshot under test-artifacts/e2e and, when `doc` is given and
 * UPDATE_SCREENSHOTS=1, as docs/screenshots/<doc>.png (so a plain test run never dirties the tree).
 */
export async function screenshot(page: Page, name: string, doc?: string): Promise<void> {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  // Images arrive by fetch (src/web/images.ts): shoot once those on the page have landed, not their empty placeholders.
  // A picture is an artifact, not an assertion, so one still loading after the bound is shot as it is, and said.
  await page
    .waitForFunction(() => [...document.images].every((img) => img.getAttribute('src') !== null && img.complete), undefined, { timeout: 10_000 })
    .catch(() => console.warn(`screenshot ${name}: an image was still loading after 10 s`));
  // A full-page shot of a scrolled page draws the sticky header mid-page: shoot from the top, then scroll back.
  const scrollY = await page.evaluate(() => window.scrollY);
  if (scrollY > 0) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  if (scrollY > 0) await page.evaluate((y) => window.scrollTo(0, y), scrollY);
  if (doc && process.env.UPDATE_SCREENSHOTS === '1') {
    await mkdir(DOCS_SCREENSHOTS, { recursive: true });
    await copyFile(file, path.join(DOCS_SCREENSHOTS, `${doc}.png`));
  }
}

/**
 * Headless Chromium has no windows to switch between: the page is told it lost the focus, as when the user works in
 * another program or pockets the phone (set up before the page loads; `sendToBackground` then flips it).
 */
export async function backgroundable(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __background: boolean };
    w.__background = false;
    const hasFocus = document.hasFocus.bind(document);
    document.hasFocus = () => !w.__background && hasFocus();
  });
}
export async function sendToBackground(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __background: boolean }).__background = true;
    window.dispatchEvent(new Event('blur'));
  });
  assert.equal(await page.evaluate(() => document.hasFocus()), false, 'the page is in the background');
}

/** The system notifications the dashboard's service worker shows (src/web/notifications.ts), as the browser lists them. */
export function shownNotifications(page: Page) {
  return page.evaluate(async () => {
    const reg = await navigator.serviceWorker.getRegistration('/');
    return (await reg?.getNotifications())?.map((n) => ({ title: n.title, body: n.body, tag: n.tag, requireInteraction: n.requireInteraction })) ?? [];
  });
}

/** Records the page's navigator.vibrate calls (set up before the page loads); `vibrations` counts them. */
export async function recordVibrations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __vibrations: unknown[] };
    w.__vibrations = [];
    navigator.vibrate = (pattern) => (w.__vibrations.push(pattern), true);
  });
}
export function vibrations(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __vibrations: unknown[] }).__vibrations.length);
}

/** Records the pitch of every tone the page's sounds start (src/web/sound.ts), set up before the page loads; `tones` reads them. */
export async function recordTones(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { __tones: number[] };
    w.__tones = [];
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (this: OscillatorNode, ...args: Parameters<OscillatorNode['start']>) {
      w.__tones.push(this.frequency.value);
      return start.apply(this, args);
    };
  });
}
export function tones(page: Page): Promise<number[]> {
  return page.evaluate(() => (window as unknown as { __tones: number[] }).__tones);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}
let axeSource: Promise<string> | null = null;

/**
 * What axe-core finds against WCAG 2.1 A/AA, 2.2 AA and its best practices (landmarks, headings…) on the page
 * as it is now: '' when nothing, else one paragraph
 * per rule broken, naming `view`, the rule, what it asks and the elements.
 */
export async function axeViolations(page: Page, view: string): Promise<string> {
  axeSource ??= readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Through DevTools, not a script tag: the dashboard's Content-Security-Policy rightly refuses inline scripts.
  await page.evaluate(await axeSource);
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] }, resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  });
  return found
    .map((v) => `${view}: ${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\n\s*/g, ' ')}`).join('\n')}`)
    .join('\n');
}

/** The id of the alert a camera's frame raised, once the worker has recorded it. */
export async function alertOfCamera(baseUrl: string, cameraId: string, token: string, cameraName: string): Promise<string> {
  let alertId = '';
  await pollUntil(
    async () => {
      alertId = (await call(baseUrl, 'GET', `/api/v1/alerts?cameraId=${cameraId}`, { token })).body.items[0]?.id ?? '';
      return alertId !== '';
    },
    `the alert of the ${cameraName} camera`,
    60_000,
  );
  return alertId;
}
