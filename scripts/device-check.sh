#!/usr/bin/env bash
# Runs ON the lent GPU machine (Ubuntu 24.04, CUDA 13, no package registry):
# unpacks the Debian packages carried in .deps/ (see scripts/device-deps.sh)
# into /opt/deps, builds everything for sm_90, runs the GPU suite (and, with
# --all, every suite), then any extra commands given after --, and prints a
# short table last. Logs go to $OUT when set.
#   scripts/device-check.sh [--all] [-- extra shell commands...]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
all=0
[[ "${1:-}" == "--all" ]] && { all=1; shift; }
[[ "${1:-}" == "--" ]] && shift
out="${OUT:-/tmp/pagoda-out}"
mkdir -p "$out"

deps=/opt/deps
if [[ ! -d $deps/usr ]]; then
  mkdir -p $deps
  for f in .deps/*.deb; do dpkg -x "$f" $deps; done
fi
export CMAKE_PREFIX_PATH=$deps/usr
export PKG_CONFIG_PATH=$deps/usr/lib/x86_64-linux-gnu/pkgconfig PKG_CONFIG_SYSROOT_DIR=$deps
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export PATH=/usr/local/cuda/bin:$PATH

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv,noheader
start=$(date +%s)
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DPCRE2_INCLUDE_DIR=$deps/usr/include -DPCRE2_LIBRARY=$deps/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0 \
  >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
ninja -C build-device -j "$(nproc)" >"$out/build.log" 2>&1 || { grep -E "error|FAILED" "$out/build.log" | head -40; exit 1; }
echo "build: $(( $(date +%s) - start )) s"

status=0
if ((all)); then
  (cd build-device && ctest --output-on-failure -j 8 -E fuzz) >"$out/ctest.log" 2>&1 || status=1
  tail -25 "$out/ctest.log"
else
  # The whole-model tests need the real model (PAGODA_MODEL_PATH) and take
  # minutes; kernel-level runs leave them out (and the API tests that load it).
  filter=()
  [[ -z "${PAGODA_MODEL_PATH:-}" ]] && filter=(-sfe='*engine_model_test*,*api_placement_test*')
  ./build-device/tests/test_gpu "${filter[@]}" >"$out/gpu.log" 2>&1 || status=1
  tail -40 "$out/gpu.log"
fi
if (($#)); then
  echo "--- extra: $*"
  bash -c "$*" 2>&1 | tee "$out/extra.log" || status=1
fi
echo "=== device-check: $( ((status)) && echo FAILED || echo passed ) ($(( $(date +%s) - start )) s)"
exit $status
