#!/usr/bin/env bash
# The benchmark run behind benchmarks/README.md's results table, as ONE
# command on the lent GPU machine, normally after scripts/device-check.sh has
# built build-device/ (on a fresh machine it configures build-device/ the same
# way and builds only the three tools it runs, before its budget starts):
#   scripts/bench-h100.sh
# About 5-6 minutes on an H100 machine with 16 cores when the models must be
# written first, ~4.5 when they are already in $BENCH_MODELS_DIR:
#  1. pagoda-synth writes 9 synthetic models (SmolLM2-135M, Llama-3.2-1B and
#     Llama-3-8B shapes in Q4_0, Q4_K_M, Q8_0), skipping files already there.
#     The 8B Q4_0 keeps output.weight in Q6_K as llama.cpp's Q4_0 files do
#     (4.33 GiB, the peer's file); the tied 1B and SmolLM2 shapes stay all Q4_0.
#  2. pagoda-bench, device-copy, every model: pp512, tg128, both at depth 0
#     and 4096, 3 repetitions after a warm-up (with the 8B shape also
#     hmm-direct: refused with its reason on a machine without HMM/ATS). One
#     run per shape, so a time-out loses one shape, not all.
#     2b. the 8B Q4_0 and Q4_K_M again with --layout gguf (the GGUF-layout
#     kernels, beside the default field-streams rows).
#     2c. the same two, pp512 with --no-wgmma (the prompt GEMM on mma.sync,
#     beside the default wgmma rows on an H100).
#     2d. pagoda-batch-bench on the 8B Q4_0: 1..16 sequences decoding
#     together (one engine, the batched step), and the time to first token of
#     a 512-token prompt beside 8 of them.
#  3. pagoda-kernel-bench: GEMV per format (and field-streams layout) over the three shapes' projections,
#     attention decode at depths 512 .. 32768 for the 8B shape.
#     3b. pagoda-kernel-bench's prefill section alone: matmul_mma_streams
#     (each tile policy forced, on stderr) beside matmul_q_streams over the
#     8B projections in Q4_0, Q4_K and Q6_K at M = 128, 512, 2048 (~20-30 s).
#     3c. pagoda-kernel-bench's prefill attention (the 8B shape's heads, 512,
#     2048 and 8192 tokens from position 0) and sampling (vocab 128256, each
#     parameter set, each block_top_k policy) sections alone (~10-15 s).
#  4. pagoda-bench, host-registered + hugepage-import, SmolLM2 and 1B shapes
#     (one run each), 2 repetitions (weights cross PCIe at ~50 GB/s: each
#     tg128 takes seconds).
#  5. pagoda-bench, host-registered + hugepage-import, the 8B Q4_0 only,
#     pp512 and tg128 at depth 0, 2 repetitions without warm-up (~11 s each).
#  6. pagoda-bench --summary over every JSON report: the README table, last.
# Stages run in that order while the time budget lasts; a stage that would
# start after it is skipped and said so. Reports (md + json), logs and the
# summary go to $OUT when set, else /tmp/pagoda-bench-out.
# Knobs: BENCH_BUDGET_S (330), BENCH_TOTAL_S (570: build + budget stay within
# one 600 s device command), BENCH_MODELS_DIR (/tmp/pagoda-bench-models),
# BENCH_REPS (3), BENCH_HOST_REPS (2), BENCH_BUILD (build-device),
# BENCH_TC_PEAK_TFLOPS (the prefill table's % of peak: by default the
# datasheet's dense f16 989.4 on an H100 SXM or H200, none on other GPUs).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

budget=${BENCH_BUDGET_S:-330}
models_dir=${BENCH_MODELS_DIR:-/tmp/pagoda-bench-models}
reps=${BENCH_REPS:-3}
host_reps=${BENCH_HOST_REPS:-2}
build=${BENCH_BUILD:-build-device}
out=${OUT:-/tmp/pagoda-bench-out}
mkdir -p "$out" "$models_dir"
SECONDS=0

# The Debian packages carried in .deps/ (fmt, PCRE2, Boost), where
# scripts/device-check.sh unpacked them; unpacked and configured the same way
# here when build-device/ does not exist yet.
deps=/opt/deps
if [[ ! -f $build/build.ninja && ! -d $deps/usr ]]; then
  mkdir -p $deps
  for f in .deps/*.deb; do dpkg -x "$f" $deps; done
fi
export CMAKE_PREFIX_PATH=$deps/usr
export PKG_CONFIG_PATH=$deps/usr/lib/x86_64-linux-gnu/pkgconfig PKG_CONFIG_SYSROOT_DIR=$deps
export LD_LIBRARY_PATH=$deps/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}
export PATH=/usr/local/cuda/bin:$PATH

synth=$build/apps/pagoda-synth/pagoda-synth
bench=$build/benchmarks/pagoda-bench/pagoda-bench
kernel_bench=$build/benchmarks/kernel-bench/pagoda-kernel-bench
batch_bench=$build/benchmarks/batch-bench/pagoda-batch-bench
if [[ ! -f $build/build.ninja ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90a \
    -DPCRE2_INCLUDE_DIR=$deps/usr/include -DPCRE2_LIBRARY=$deps/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0 \
    >"$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
fi
# Up to date already after device-check.sh; otherwise only what the run needs.
ninja -C "$build" -j "$(nproc)" pagoda-synth pagoda-bench pagoda-kernel-bench pagoda-batch-bench >"$out/build.log" 2>&1 ||
  { grep -E "error|FAILED" "$out/build.log" | head -20; exit 1; }
# The lent machine gives one command 600 s: a build here comes out of the budget.
total=${BENCH_TOTAL_S:-570}
((budget > total - SECONDS)) && budget=$((total - SECONDS))
echo "bench-h100: tools ready after ${SECONDS}s; the ${budget}s budget starts now" >&2
SECONDS=0

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv,noheader | tee "$out/gpu.txt"
status=0
# Progress goes to stderr: a stage's stdout is its report file.
note() { echo "bench-h100 [${SECONDS}s]: $*" >&2; }

# stage NAME MIN_SECONDS COMMAND...: runs COMMAND under the time left, when
# at least MIN_SECONDS are; its stderr (progress) goes to NAME.log.
stage() {
  local name=$1 need=$2
  shift 2
  local left=$((budget - SECONDS))
  if ((left < need)); then
    note "SKIPPED $name: ${left}s of the ${budget}s budget left, it needs ~${need}s"
    return 0
  fi
  note "$name (at most ${left}s)"
  timeout -k 10 "$left" "$@" 2>"$out/$name.log"
  local rc=$?
  if ((rc == 124 || rc == 137)); then
    note "TIMED OUT $name; its progress so far is in $name.log"
    status=1
  elif ((rc != 0)); then
    note "$name exited with $rc:"
    tail -5 "$out/$name.log" >&2
    status=1
  fi
}

# 1. Models: shape, recipe and extra pagoda-synth flags.
model_path() { echo "$models_dir/$1-$2.gguf"; }
make_model() {
  local shape=$1 quant=$2 path
  shift 2
  path=$(model_path "$shape" "$quant")
  [[ -s $path ]] && return 0
  "$synth" --shape "$shape" -q "$quant" "$@" -o "$path" >>"$out/synth.log" 2>&1 ||
    { note "pagoda-synth failed for $path (see synth.log)"; status=1; }
}
note "writing synthetic models into $models_dir (existing ones kept)"
for shape in smollm2-135m llama-3.2-1b llama-3-8b; do
  for quant in Q4_0 Q4_K_M Q8_0; do
    extra=()
    [[ $shape == llama-3-8b && $quant == Q4_0 ]] && extra=(--output-quant Q6_K)
    make_model "$shape" "$quant" "${extra[@]}"
  done
done
note "models ready"
models_of() {
  local shape=$1 list=""
  for quant in Q4_0 Q4_K_M Q8_0; do list+="${list:+,}$(model_path "$shape" "$quant")"; done
  echo "$list"
}

# 2. Device-resident weights, every model, one run per shape; hmm-direct is
# asked for with the 8B shape only: where it is refused, it is refused alike
# for every model, and three rows say so.
tests=(-p 512 -n 128 -d "0,4096")
for shape in smollm2-135m llama-3.2-1b llama-3-8b; do
  mappings=device-copy
  [[ $shape == llama-3-8b ]] && mappings=device-copy,hmm-direct
  stage "bench-device-$shape" 20 "$bench" -m "$(models_of "$shape")" --mapping "$mappings" \
    "${tests[@]}" -r "$reps" --save "$out/bench-device-$shape.json" -o md >"$out/bench-device-$shape.md"
done

# 2b. The same 8B models on the GGUF layout (--layout gguf): the kernels
# before field streams, beside the default (packed) rows of stage 2.
stage bench-device-gguf-llama-3-8b 40 "$bench" -m "$(model_path llama-3-8b Q4_0),$(model_path llama-3-8b Q4_K_M)" \
  --mapping device-copy --layout gguf "${tests[@]}" -r 2 --save "$out/bench-device-gguf-llama-3-8b.json" \
  -o md >"$out/bench-device-gguf-llama-3-8b.md"

# 2c. Prompts on mma.sync (--no-wgmma) beside the default wgmma rows of stage 2.
stage bench-device-mma-sync-llama-3-8b 30 "$bench" -m "$(model_path llama-3-8b Q4_0),$(model_path llama-3-8b Q4_K_M)" \
  --mapping device-copy --no-wgmma -p 512 -n 0 -d 0 -r 2 --save "$out/bench-device-mma-sync-llama-3-8b.json" \
  -o md >"$out/bench-device-mma-sync-llama-3-8b.md"

# 2d. Sequences decoding together (issue 17's batched step): aggregate t/s
# at 1..16 streams, and a 512-token prompt's first token beside 8 of them.
stage batch-bench-llama-3-8b 40 "$batch_bench" -m "$(model_path llama-3-8b Q4_0)" --streams 1,2,3,4,8,16 \
  -n 64 -d 128 --ttft-prompt 512 --ttft-streams 8 >"$out/batch-bench-llama-3-8b.md"

# 3. Kernels (each field-streams format beside its GGUF layout); prefill apart (3b, 3c).
stage kernel-bench 30 "$kernel_bench" --no-prefill --no-prefill-attention --no-sampling \
  --save "$out/kernel-bench.json" -o md >"$out/kernel-bench.md"

# 3b. Prefill matmuls, the 8B shape only: 7 projections x 3 formats x 3 M.
tc_peak=${BENCH_TC_PEAK_TFLOPS:-}
if [[ -z $tc_peak ]]; then
  case "$(head -1 "$out/gpu.txt" | cut -d, -f1)" in
    "NVIDIA H100 80GB HBM3" | "NVIDIA H200") tc_peak=989.4 ;;  # SXM parts: dense f16, f32 accumulate
    *) tc_peak=0 ;;
  esac
fi
stage kernel-bench-prefill 30 "$kernel_bench" --no-gemv --no-attention --no-prefill-attention --no-sampling \
  --shapes llama-3-8b --formats Q4_0,Q4_K,Q6_K --tokens 128,512,2048 --samples 50 --tc-peak-tflops "$tc_peak" \
  --save "$out/kernel-bench-prefill.json" -o md >"$out/kernel-bench-prefill.md"

# 3c. Prefill attention of the 8B shape (32 / 8 heads of 128) and the sampler.
stage kernel-bench-attention-sampling 20 "$kernel_bench" --no-gemv --no-attention --no-prefill \
  --attention-shape llama-3-8b --attention-tokens 512,2048,8192 --sampling-vocab 128256 --samples 50 \
  --tc-peak-tflops "$tc_peak" --save "$out/kernel-bench-attention-sampling.json" \
  -o md >"$out/kernel-bench-attention-sampling.md"

# 4. Host-resident weights, the small shapes (SmolLM2 ~15 s, 1B ~90 s).
for shape in smollm2-135m llama-3.2-1b; do
  need=20
  [[ $shape == llama-3.2-1b ]] && need=80
  stage "bench-host-$shape" "$need" "$bench" -m "$(models_of "$shape")" --mapping host-registered,hugepage-import \
    "${tests[@]}" -r "$host_reps" --save "$out/bench-host-$shape.json" -o md >"$out/bench-host-$shape.md"
done

# 5. Host-resident weights, the 8B Q4_0.
stage bench-host-8b 60 "$bench" -m "$(model_path llama-3-8b Q4_0)" --mapping host-registered,hugepage-import \
  -p 512 -n 128 -d 0 -r "$host_reps" --no-warmup --save "$out/bench-host-8b.json" -o md >"$out/bench-host-8b.md"

# 6. What came back, shortest last: kernel highlights, then the README table.
if [[ -s $out/kernel-bench.md ]]; then
  echo
  echo "### kernel-bench highlights (full tables: kernel-bench.md)"
  sed -n '/^### GEMV/,/^### attention/p' "$out/kernel-bench.md" |
    grep -E '^\| (shape|---|llama-3-8b \| [a-z_]+ \| [0-9]+ × [0-9]+ \| (Q4_0|Q4_K|Q6_K|Q8_0) )'
  sed -n '/^### attention decode/,$p' "$out/kernel-bench.md"
fi
if [[ -s $out/kernel-bench-prefill.md ]]; then
  echo
  echo "### prefill matmul highlights, M = 512 (full table: kernel-bench-prefill.md)"
  sed -n '/^### prefill matmul/,$p' "$out/kernel-bench-prefill.md" |
    grep -E '^\| (shape|---|[a-z0-9.-]+ \| [a-z_]+ \| [A-Z0-9_]+ \| 512 \|)'
fi
if [[ -s $out/kernel-bench-attention-sampling.md ]]; then
  echo
  echo "### prefill attention and sampling (policy table: kernel-bench-attention-sampling.md)"
  sed -n '/^### prefill attention/,/^### sampling: each/p' "$out/kernel-bench-attention-sampling.md" |
    grep -v '^### sampling: each'
fi
reports=()
for f in "$out"/bench-{device-smollm2-135m,device-llama-3.2-1b,device-llama-3-8b,device-gguf-llama-3-8b,host-smollm2-135m,host-llama-3.2-1b,host-8b}.json; do
  [[ -s $f ]] && reports+=("$f")
done
echo
if ((${#reports[@]})); then
  (IFS=,; "$bench" --summary "${reports[*]}") | tee "$out/summary.md"
else
  echo "bench-h100: no pagoda-bench report came back"
  status=1
fi
note "done ($( ((status)) && echo "with problems: see the logs in $out" || echo ok))"
exit $status
