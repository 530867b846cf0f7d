#!/usr/bin/env bash
# Runs the test suites with node's own runner (through tsx). Node 20 does not
# expand globs, so the files are listed here. Usage: scripts/test.sh [unit|integration|e2e|faults ...]
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit integration e2e faults)
files=()
for suite in "${suites[@]}"; do
  files+=(test/"$suite"/*.test.ts)
done
if [ ${#files[@]} -eq 0 ]; then
  echo "no test files in: ${suites[*]}" >&2
  exit 1
fi
# Process tests run bin/maskwatch.js, which uses the server bundle when it is fresh: build it, so they
# exercise what `npm start` and the Docker image run.
npm run --silent build:server
exec node --import tsx --test --test-concurrency=1 "${files[@]}"
