#!/usr/bin/env bash
# Makes sure WebGPU has an adapter in Node (Dawn through the `webgpu` package), installing a software one where
# none exists. A no-op when Dawn already finds an adapter (a real GPU, or lavapipe installed before).
#
# On Debian bookworm without a GPU: Debian's own Mesa 22 lavapipe is refused by Dawn, Mesa 25 from
# bookworm-backports works. So: add a deb822 source for bookworm-backports (same URI and keyring as the machine's
# Debian source), then install mesa-vulkan-drivers (from backports) and libvulkan1. Needs root (or sudo).
# Elsewhere it prints exactly what to install and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."

probe() {
  node --input-type=module -e "
    import { create } from 'webgpu';
    let gpu = create([]);
    const a = await gpu.requestAdapter();
    gpu = null;
    if (!a) process.exit(1);
    console.log('WebGPU adapter: ' + [a.info.description || a.info.device, a.info.vendor].filter(Boolean).join(' / '));
  " 2>/dev/null
}

if [ ! -d node_modules/webgpu ]; then
  echo "setup-adapter: node_modules/webgpu is missing; run 'npm install' first." >&2
  exit 1
fi
if probe; then exit 0; fi

echo "setup-adapter: no WebGPU adapter found; installing Mesa's lavapipe (software Vulkan)." >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo"; else
    cat >&2 <<'MSG'
setup-adapter: need root to install packages. As root, on Debian bookworm:
  add /etc/apt/sources.list.d/bookworm-backports.sources with
    Types: deb / URIs: http://deb.debian.org/debian / Suites: bookworm-backports / Components: main /
    Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
  apt-get update && apt-get install -t bookworm-backports mesa-vulkan-drivers && apt-get install libvulkan1
On Ubuntu 24.04+ or Debian trixie: apt-get install mesa-vulkan-drivers libvulkan1 (Mesa >= 24 works).
MSG
    exit 1
  fi
fi

codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
export DEBIAN_FRONTEND=noninteractive
if [ "$codename" = bookworm ]; then
  src=/etc/apt/sources.list.d/bookworm-backports.sources
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # Same URI and keyring as the machine's own Debian source.
    uri=$(grep -hE '^URIs:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1 | awk '{print $2}')
    key=$(grep -hE '^Signed-By:' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1 | awk '{print $2}')
    $sudo tee "$src" >/dev/null <<SRC
Types: deb
URIs: ${uri:-http://deb.debian.org/debian}
Suites: bookworm-backports
Components: main
Signed-By: ${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
SRC
  fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
  $sudo apt-get install -y -qq libvulkan1 >/dev/null
elif command -v apt-get >/dev/null; then
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
else
  echo "setup-adapter: not a Debian/Ubuntu system; install Mesa >= 24 Vulkan drivers (lavapipe) and the Vulkan loader." >&2
  exit 1
fi

if probe; then exit 0; fi
echo "setup-adapter: installed lavapipe but Dawn still finds no adapter (check 'ls /usr/share/vulkan/icd.d')." >&2
exit 1
