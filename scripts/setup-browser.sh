#!/usr/bin/env bash
# Makes sure the real-browser tests (test/browser/) have a Chromium: Debian's `chromium` package at /usr/bin/chromium
# (or $CHROMIUM_PATH), driven by playwright-core. Playwright's own browser downloads are never used.
#
#   present                     → nothing to do (prints the version)
#   missing, root or sudo, Debian → apt-get install chromium
#   otherwise                   → says what to install and exits 0, so a chained `npm test` still runs the other
#                                 suites (the browser tests then fail, naming the same fix)
#
# Chromium brings SwiftShader (CPU Vulkan) along, which is all the tests need for WebGPU: no GPU, no Mesa.
set -euo pipefail

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"

if [ -x "$chromium" ]; then
  # Debian's /usr/bin/chromium wrapper script prints a harmless shell warning on some systems: keep only the version.
  version=$("$chromium" --version 2>/dev/null || true)
  echo "setup-browser: ${version:-Chromium} at $chromium"
  exit 0
fi

hint="install Debian's Chromium as root: apt-get update && apt-get install -y chromium (or set CHROMIUM_PATH to a Chromium/Chrome binary)"

if [ -n "${CHROMIUM_PATH:-}" ]; then
  echo "setup-browser: CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file; fix it, or unset it and $hint." >&2
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "setup-browser: no Chromium at $chromium and no apt-get here; $hint." >&2
  exit 0
fi

os_id=$(. /etc/os-release 2>/dev/null && echo "${ID:-}")
if [ "$os_id" != debian ]; then
  # Ubuntu's `chromium` package is a snap wrapper, which does not run in most containers.
  echo "setup-browser: no Chromium at $chromium; this is not Debian ($os_id), so not installing; $hint." >&2
  exit 0
fi

sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    echo "setup-browser: no Chromium at $chromium and not root; $hint." >&2
    exit 0
  fi
fi

echo "setup-browser: installing Debian's chromium package (for the browser tests)..." >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
if [ -x /usr/bin/chromium ]; then
  echo "setup-browser: $(/usr/bin/chromium --version 2>/dev/null || echo chromium) installed at /usr/bin/chromium"
else
  echo "setup-browser: apt-get finished but /usr/bin/chromium is missing; $hint." >&2
fi
