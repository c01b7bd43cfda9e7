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
status=0
npx vitest run --exclude 'test/browser/**' --exclude 'test/package/**' $(report node) "$@" || status=$?
npx vitest run test/browser $(report browser) "$@" || status=$?
npx vitest run test/package $(report package) "$@" || status=$?
exit $status
