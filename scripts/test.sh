#!/usr/bin/env bash
# npm test: makes sure a WebGPU adapter (lavapipe) and Chromium are there, then runs vitest in three phases —
# the Node suites, then the real-browser suites alone: SwiftShader in Chromium and lavapipe both run on the CPU,
# and sharing two cores between them makes the browser tests crawl; then the package as its users get it
# (test/package: npm pack, the tarball installed into temporary projects, bundlers, Node and Chromium; about a minute).
# Extra arguments go to every vitest run. With VITEST_JSON=path, each phase also writes a JSON report
# (path with -node / -browser / -package before .json) that .ci/run sums up.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-adapter.sh || exit 1
bash scripts/setup-browser.sh
report() { [ -n "${VITEST_JSON:-}" ] && echo "--reporter=default --reporter=./test/helpers/retry-reporter.ts --reporter=json --outputFile=${VITEST_JSON%.json}-$1.json"; }
# phase NAME ARGS...: one vitest run. With VITEST_JSON, a run whose vitest process died before writing its report
# (not a test failing: a runner that dies — as vitest 3's forks pool did once here, ERR_IPC_CHANNEL_CLOSED in
# tinypool, which vitest 4 no longer uses) is said so and run once more, after its orphaned workers are stopped.
phase() {
  local name=$1; shift
  local code=0
  npx vitest run "$@" $(report "$name") "${extra[@]}" || code=$?
  if [ -n "${VITEST_JSON:-}" ] && [ ! -f "${VITEST_JSON%.json}-$name.json" ]; then
    echo "== the $name phase's vitest exited ($code) without its report: its runner died; running the phase again" >&2
    pkill -9 -P 1 -f '^node \(vitest' 2>/dev/null
    code=0
    npx vitest run "$@" $(report "$name") "${extra[@]}" || code=$?
  fi
  return $code
}
extra=("$@")
status=0
phase node --exclude 'test/browser/**' --exclude 'test/package/**' || status=$?
phase browser test/browser || status=$?
phase package test/package || status=$?
exit $status
