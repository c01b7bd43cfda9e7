#!/usr/bin/env bash
# Load time from disk per dtype: a synthetic full-size checkpoint (f32), its converted f16/int8/q4 copies, and the f32
# file quantized at load to int8 and q4, two rounds each (bench --load: time and peak JS memory).
# usage: node scripts/build.mjs --no-types && bash bench/load-converted.sh [PRESET] [DIR]
#        (defaults: siglip-large-patch16-384, a temporary directory; needs ~5 GB free there for SigLIP-large)
set -u
cd "$(dirname "$0")/.."
preset=${1:-siglip-large-patch16-384}
D=${2:-$(mktemp -d)}
mkdir -p "$D"
cli() { node dist/cli.js "$@"; }
secs() { echo "$(date +%s.%N) - $1" | bc; }
t0=$(date +%s.%N); cli synth --config "$preset" --out "$D/f32" >/dev/null || exit 1; echo "synth $preset: $(secs "$t0") s"
for dt in f16 int8 q4; do
  t0=$(date +%s.%N); cli convert --model "$D/f32" --dtype $dt --out "$D/$dt" --json > "$D/convert-$dt.json" || exit 1
  echo "convert $dt: $(secs "$t0") s"
done
du -sb "$D"/f32 "$D"/f16 "$D"/int8 "$D"/q4
for r in 1 2; do
  for x in f32 f16 int8 q4; do echo "load $x (round $r): $(cli bench --load "$D/$x" --json 2>/dev/null | tail -1)"; done
  for dt in int8 q4; do echo "load f32 --dtype $dt (round $r): $(cli bench --load "$D/f32" --dtype $dt --json 2>/dev/null | tail -1)"; done
done
