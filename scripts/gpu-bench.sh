#!/usr/bin/env bash
# The prepared run for a lent GPU: one call that unpacks the Node binary and Vulkan
# loader carried in .gpu/ (when the machine lacks them), shows the card and the adapter, then runs the bench with
# subgroup matrices allowed: the per-adapter search (tensor-core candidates included, each checked against its float64 reference
# first), ceilings, kernels, and SigLIP-large end to end at batch 1, 8 and 32, in f32 and in f16. Each step
# has its own time limit and a failed step does not stop the next; everything lands under $OUT, and a summary
# against issue 6's GPU targets is printed last (scripts/bench-summary.mjs).
#
# Prepare here: npm run build && bash ../shared/device/pack.sh
# Device call:  carry .gpu dist node_modules/webgpu/index.js node_modules/webgpu/package.json
#               node_modules/webgpu/dist/linux-x64 node_modules/debug node_modules/ms (about 50 MB: the whole of
#               node_modules/webgpu, 132 MB with every platform's Dawn, is over the 64 MiB a call carries);
#               command `bash scripts/gpu-bench.sh`; timeout_s 570 (the steps below add up to 540 s at most).
# Dry run here: GPU_BENCH_DRY=1 OUT=/tmp/gpu-bench bash scripts/gpu-bench.sh
#               (any adapter, a small model and a few kernel shapes: checks the script, not the speed).
set -u
OUT=${OUT:-$PWD/.gpu-out}
mkdir -p "$OUT"
DRY=${GPU_BENCH_DRY:-}

if ! command -v node >/dev/null 2>&1 && [ -s .gpu/node.xz ]; then
  mkdir -p /tmp/gpu-node && xz -dc .gpu/node.xz > /tmp/gpu-node/node && chmod +x /tmp/gpu-node/node
  export PATH=/tmp/gpu-node:$PATH
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  for f in .gpu/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
  ldconfig 2>/dev/null || true
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -z "$DRY" ] && [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; break; fi
done
# Experimental features (subgroup matrices) need Dawn's unsafe APIs; the Vulkan memory model for cooperative matrices.
export SIGLIP_WEBGPU_DAWN_FLAGS='enable-dawn-features=allow_unsafe_apis,use_vulkan_memory_model'
# The tuning record of this run stays with its results.
export SIGLIP_WEBGPU_CACHE=$OUT/tuning

step() { # name seconds command...
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.out" 2> >(grep -v 'artificially reduced' > "$OUT/$name.err")
  local rc=$?
  echo "step $name: exit $rc after $((SECONDS - t0)) s (limit $limit s)" | tee -a "$OUT/steps.txt"
}

{ command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,memory.total --format=csv; } > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"
node --version
step info 60 node dist/cli.js info
cat "$OUT/info.out"

if [ -n "$DRY" ]; then
  step f32 240 node dist/cli.js bench --json --out "$OUT/f32" --synthetic siglip-base-patch16-224 --towers text \
    --batch 1 --filter 64x1024x1024
  step f16 120 node dist/cli.js bench --json --out "$OUT/f16" --dtype f16 --kernels --filter 'L64 '
else
  # --tune: search again on this card (the cache dir is fresh anyway) so the record holds every candidate's time.
  step f32 300 node dist/cli.js bench --tune --json --out "$OUT/f32" --batch 1,8,32
  step f16 180 node dist/cli.js bench --json --out "$OUT/f16" --dtype f16 --batch 1,8,32
fi
node scripts/bench-summary.mjs "$OUT/f32.out" "$OUT/f16.out" | tee "$OUT/summary.md"
