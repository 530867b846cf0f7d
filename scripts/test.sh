#!/usr/bin/env bash
# Runs the test suites with node's own runner (through tsx). Node 20 does not
# expand globs, so the files are listed here. Usage: scripts/test.sh [unit|integration|e2e|faults ...]
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit integration e2e faults)
# Unit and integration files run two at a time (each has its own database, Redis prefix, data dir and
# ports, and the ONNX sessions use one thread, so the 2 cores are both used); browser and fault files run
# one at a time: they kill, restart and count real processes and drive a real browser.
parallel=()
serial=()
for suite in "${suites[@]}"; do
  case "$suite" in
    unit | integration) parallel+=(test/"$suite"/*.test.ts) ;;
    *) serial+=(test/"$suite"/*.test.ts) ;;
  esac
done
if [ $((${#parallel[@]} + ${#serial[@]})) -eq 0 ]; then
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
run() {
  local concurrency=$1
  shift
  node --import tsx --test --test-concurrency="$concurrency" --test-timeout="${TEST_TIMEOUT_MS:-900000}" "$@"
}
status=0
if [ ${#parallel[@]} -gt 0 ]; then run "${TEST_CONCURRENCY:-2}" "${parallel[@]}" || status=$?; fi
if [ ${#serial[@]} -gt 0 ]; then run 1 "${serial[@]}" || status=$?; fi
exit "$status"
