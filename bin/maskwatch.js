#!/usr/bin/env node
// Runs the CLI from the bundle dist/maskwatch.js (`npm run build:server`) when
// it is newer than every server source file, else from the TypeScript sources
// through tsx: `npx maskwatch …` works straight after `npm ci`, and an edited
// checkout never runs a stale bundle. The bundle spares each process tsx's
// loader and the start-up transpiling (~1 s CPU, ~15 MB RSS per process).
// MASKWATCH_FROM_SOURCE=1 forces the sources. Without the dev dependencies (a
// production install) the bundle runs as it is: deployments build it first.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}dist/maskwatch.js`;

/**
 * onnxruntime-node 1.30 segfaults in InferenceSession.create when the
 * process command line (/proc/self/cmdline) is longer than ~29 KB (measured;
 * environment size does not matter; see docs/ort-long-cmdline/). A command
 * line above this limit is handed to a re-executed copy of this script through
 * a private temporary file, so `maskwatch classify dir/*.jpg` works with any
 * number of files.
 */
const MAX_CMDLINE_BYTES = 16 * 1024;
const ARGV_FILE_ENV = 'MASKWATCH_ARGV_FILE';

function commandLineBytes() {
  try {
    return readFileSync('/proc/self/cmdline').length;
  } catch {
    // Not Linux: count what the kernel would hold.
    return [process.execPath, ...process.execArgv, ...process.argv.slice(1)].reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
  }
}

const argvFile = process.env[ARGV_FILE_ENV];
const reexecute = !argvFile && commandLineBytes() > MAX_CMDLINE_BYTES;
if (argvFile) {
  // The re-executed copy: take the real arguments, leave no file behind.
  delete process.env[ARGV_FILE_ENV];
  const args = JSON.parse(readFileSync(argvFile, 'utf8'));
  rmSync(path.dirname(argvFile), { recursive: true, force: true });
  process.argv = [process.argv[0], process.argv[1], ...args];
} else if (reexecute) {
  const dir = mkdtempSync(path.join(tmpdir(), 'maskwatch-argv-')); // mode 0700: the paths stay private
  const file = path.join(dir, 'argv.json');
  writeFileSync(file, JSON.stringify(process.argv.slice(2)), { mode: 0o600 });
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, [ARGV_FILE_ENV]: file },
  });
  // The child gets Ctrl-C from the terminal itself; a kill aimed at this process is passed on.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  const cleanUp = () => rmSync(dir, { recursive: true, force: true });
  child.on('error', (err) => {
    cleanUp();
    process.stderr.write(`maskwatch: cannot re-run itself for a long argument list: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    cleanUp();
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
}

/** Newest mtime of the files under dir, skipping the dashboard (not part of the server bundle). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) t = e.name === 'web' && dir.endsWith('src') ? t : Math.max(t, newest(p));
    else t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** tsx is a dev dependency: a production install (`npm ci --omit=dev`) runs the bundle only. */
function hasTsx() {
  return existsSync(`${root}node_modules/tsx/package.json`);
}

const fromSource = /^(1|true|yes)$/i.test(process.env.MASKWATCH_FROM_SOURCE?.trim() ?? '');
if (reexecute) {
  // The re-executed copy does the work; this process only waits for its exit (above).
} else if (!fromSource && existsSync(bundle) && (!hasTsx() || statSync(bundle).mtimeMs >= newest(`${root}src`))) {
  await import(bundle);
} else if (hasTsx()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  process.stderr.write(
    fromSource
      ? 'maskwatch: MASKWATCH_FROM_SOURCE needs the dev dependencies (npm ci without --omit=dev)\n'
      : 'maskwatch: no server bundle (dist/maskwatch.js) and no dev dependencies to run the sources: ' +
          'run `npm ci && npm run build` first, then `npm ci --omit=dev` for a production install\n',
  );
  process.exitCode = 1;
}
