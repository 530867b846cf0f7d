#!/usr/bin/env node
// Runs the CLI from the bundle dist/maskwatch.js (`npm run build:server`) when
// it is newer than every server source file, else from the TypeScript sources
// through tsx: `npx maskwatch …` works straight after `npm ci`, and an edited
// checkout never runs a stale bundle. The bundle spares each process tsx's
// loader and the start-up transpiling (~1 s CPU, ~15 MB RSS per process).
// MASKWATCH_FROM_SOURCE=1 forces the sources. Without the dev dependencies (a
// production install) the bundle runs as it is: deployments build it first.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = `${root}dist/maskwatch.js`;

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

const fromSource = Boolean(process.env.MASKWATCH_FROM_SOURCE);
if (!fromSource && existsSync(bundle) && (!hasTsx() || statSync(bundle).mtimeMs >= newest(`${root}src`))) {
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
