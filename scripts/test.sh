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
# A test that hangs fails instead of holding CI until its limit. Node 20's runner applies --test-timeout to
# each test file's process as a whole (not to each test inside it), so the bound is the slowest file
# (a fault-suite file, ~2-3 min alone on 2 idle cores) with a wide margin for a busy machine; the waits
# inside tests have their own, shorter bounds that name what did not arrive (test/helpers/wait.ts).
exec node --import tsx --test --test-concurrency=1 --test-timeout="${TEST_TIMEOUT_MS:-900000}" "${files[@]}"
