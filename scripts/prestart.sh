#!/usr/bin/env bash
# `npm start` builds the dashboard and the server bundle first, so it never runs stale code. A production
# install (`npm ci --omit=dev`) has no build tools: it runs what `npm run build` produced before.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x node_modules/.bin/vite ] && [ -x node_modules/.bin/esbuild ]; then
  exec npm run --silent build
fi
if [ ! -f dist/maskwatch.js ]; then
  echo "maskwatch: no dev dependencies to build with and no dist/maskwatch.js: run \`npm ci && npm run build\` before \`npm ci --omit=dev\`" >&2
  exit 1
fi
