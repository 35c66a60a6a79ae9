#!/usr/bin/env bash
# Runs ON the lent GPU machine (Ubuntu 24.04, CUDA 13, no package registry):
# unpacks the Debian packages carried in .deps/ (see scripts/device-deps.sh)
# into /opt/deps, builds everything for sm_90, runs the GPU suite (and, with
# --all, every suite), the kernel tests under compute-sanitizer (memcheck, and
# racecheck for the shared-memory kernels), prints a short table of the
# results, then runs any extra commands given after --. Logs go to $OUT when set.
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
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90a \
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
# --- compute-sanitizer over the kernel tests (issue 16) -------------------------
# The kernel test cases (their own random inputs, ragged shapes, the
# "(memcheck)" bounds cases) under memcheck, and those of the kernels that use
# shared memory (staged GEMV, matmul_q tiles, the mma.sync GEMM's cp.async
# pipeline, the batched step's staged X and gated epilogue, attention, norms,
# CUB sampling)
# under racecheck; timings are pagoda-kernel-bench's, not the suite's. Each
# tool has a time limit (PAGODA_SANITIZE_TIMEOUT, default 600 s);
# PAGODA_SANITIZE=none skips both, and the table says so. Results:
# $out/memcheck.log, $out/racecheck.log.
sanitize_rows=()
sanitizer=/usr/local/cuda/bin/compute-sanitizer
sanitize_timeout="${PAGODA_SANITIZE_TIMEOUT:-600}"
kernel_files='*kernel_*_test.cpp,*prefill_matmul_q_test.cpp,*prefill_matmul_mma_test.cpp,*prefill_attention_test.cpp,*prefill_tile_dequant_test.cpp,*dequantize_test.cpp,*sampling_test.cpp'
shared_memory_files='*kernel_gemv_q_test.cpp,*kernel_matmul_few_streams_test.cpp,*kernel_gemv_q_fused_test.cpp,*kernel_attention_decode_test.cpp,*kernel_norm_test.cpp,*prefill_matmul_q_test.cpp,*prefill_matmul_mma_test.cpp,*prefill_attention_test.cpp,*sampling_test.cpp'
run_sanitizer() {  # TOOL FILES: one row for the table; a failure sets status
  local tool=$1 files=$2 log="$out/$1.log" begin rc summary
  begin=$(date +%s)
  timeout "$sanitize_timeout" "$sanitizer" --tool "$tool" --error-exitcode 86 --print-limit 50 \
    ./build-device/tests/test_gpu -sf="$files" >"$log" 2>&1
  rc=$?
  summary=$(grep -E "(ERROR|RACECHECK) SUMMARY" "$log" | tail -1 | sed 's/^=* *//')
  case $rc in
    0) sanitize_rows+=("$tool|passed|${summary:-no summary}, $(( $(date +%s) - begin )) s") ;;
    86) sanitize_rows+=("$tool|FAILED|${summary:-errors}: see $log"); status=1 ;;
    124) sanitize_rows+=("$tool|FAILED|timed out after ${sanitize_timeout} s: see $log"); status=1 ;;
    *) sanitize_rows+=("$tool|FAILED|the tests failed under it (exit $rc): see $log"); status=1 ;;
  esac
}
if [[ "${PAGODA_SANITIZE:-memcheck,racecheck}" == none ]]; then
  sanitize_rows+=("compute-sanitizer|skipped|PAGODA_SANITIZE=none")
elif [[ ! -x "$sanitizer" ]]; then
  sanitize_rows+=("compute-sanitizer|FAILED|$sanitizer not found"); status=1
else
  [[ ",${PAGODA_SANITIZE:-memcheck,racecheck}," == *,memcheck,* ]] && run_sanitizer memcheck "$kernel_files"
  [[ ",${PAGODA_SANITIZE:-memcheck,racecheck}," == *,racecheck,* ]] && run_sanitizer racecheck "$shared_memory_files"
fi
echo "--- results"
if ((all)); then
  echo "ctest (all suites)|$(grep -E "tests passed" "$out/ctest.log" | tail -1)"
else
  echo "gpu suite|$(grep -E "^\[doctest\] test cases:" "$out/gpu.log" | tail -1 | sed 's/^\[doctest\] //')"
  grep -E "^\[doctest\] skipped at run time" "$out/gpu.log" | sed 's/^\[doctest\] /gpu suite|/'
fi
printf '%s\n' "${sanitize_rows[@]}"
# --- end of compute-sanitizer ------------------------------------------------

if (($#)); then
  echo "--- extra: $*"
  bash -c "$*" 2>&1 | tee "$out/extra.log" || status=1
fi
echo "=== device-check: $( ((status)) && echo FAILED || echo passed ) ($(( $(date +%s) - start )) s)"
exit $status
