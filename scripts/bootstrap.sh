#!/usr/bin/env bash
# The README's two commands. On a fresh Debian 12 machine this installs what is
# missing, fetches the default model (and for `test` Gemma 3 270M), builds, and then either runs the main
# job (the chat app on the default model) or the whole test suite:
#   scripts/bootstrap.sh run [-- extra flags for the app]
#   scripts/bootstrap.sh test
# Environment: PAGODA_BUILD_DIR (default build), PAGODA_CUDA=ON|OFF (default ON:
# the CUDA Toolkit is required), PAGODA_CUDA_ARCHITECTURES (default: CMake's
# cache default, Ampere to Hopper), PAGODA_FUZZ_SECONDS (default 120),
# PAGODA_JOBS (default: number of cores).
set -euo pipefail

mode="${1:-}"
shift || true
[[ "${1:-}" == "--" ]] && shift
case "$mode" in
  run|test) ;;
  *) echo "usage: scripts/bootstrap.sh run|test" >&2; exit 2 ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="${PAGODA_BUILD_DIR:-$root/build}"
jobs="${PAGODA_JOBS:-$(nproc)}"
cuda="${PAGODA_CUDA:-ON}"
say() { echo "pagoda: $*" >&2; }

# --- 1. Debian packages -------------------------------------------------------
packages=(build-essential cmake ninja-build pkg-config python3 python3-pip
          librange-v3-dev doctest-dev libboost-program-options-dev libpcre2-dev
          libfmt-dev nlohmann-json3-dev libedit-dev libcpp-httplib-dev python3-venv)
[[ "$mode" == test ]] && packages+=(clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. CUDA Toolkit (not a Debian 12 package in a usable version) ------------
cmake_args=(-G Ninja -DPAGODA_CUDA="$cuda")
if [[ "$cuda" == ON ]]; then
  nvcc=$(command -v nvcc || true)
  [[ -z "$nvcc" && -x /usr/local/cuda/bin/nvcc ]] && nvcc=/usr/local/cuda/bin/nvcc
  if [[ -z "$nvcc" ]]; then
    say "the CUDA Toolkit (nvcc, 12.4 or newer) is required and was not found on PATH or in /usr/local/cuda."
    say "install it from NVIDIA's Debian 12 repository, or run with PAGODA_CUDA=OFF for a CPU-only build."
    exit 1
  fi
  cmake_args+=(-DCMAKE_CUDA_COMPILER="$nvcc")
  [[ -n "${PAGODA_CUDA_ARCHITECTURES:-}" ]] && cmake_args+=(-DCMAKE_CUDA_ARCHITECTURES="$PAGODA_CUDA_ARCHITECTURES")
else
  say "PAGODA_CUDA=OFF: building without the CUDA kernels (CPU reference only)"
fi

# --- 3. the default model (and, for the tests, Gemma 3 270M) --------------------
model=$("$root/scripts/fetch-model.sh")
export PAGODA_MODEL_PATH="$model"
if [[ "$mode" == test ]]; then
  PAGODA_GEMMA3_PATH=$("$root/scripts/fetch-gemma3.sh")
  export PAGODA_GEMMA3_PATH
fi

# --- 4. build ------------------------------------------------------------------
if [[ "$mode" == test ]]; then
  say "building the GGUF fuzzer (clang, ASan + UBSan)"
  CC=clang CXX=clang++ cmake -S "$root/tests/fuzz" -B "$build-fuzz" -G Ninja >/dev/null
  ninja -C "$build-fuzz" -j "$jobs" gguf_reader_fuzzer >/dev/null
  cmake_args+=(-DPAGODA_GGUF_FUZZER="$build-fuzz/gguf_reader_fuzzer"
               -DPAGODA_FUZZ_SECONDS="${PAGODA_FUZZ_SECONDS:-120}")
fi
# Build output goes to stderr: `run -- -p ...` is for scripts, and its stdout
# carries the answer alone.
say "configuring and building in $build"
cmake -S "$root" -B "$build" "${cmake_args[@]}" >/dev/null
ninja -C "$build" -j "$jobs" >&2

# --- 5. run --------------------------------------------------------------------
if [[ "$mode" == run ]]; then
  exec "$build/apps/pagoda-chat/pagoda-chat" --model "$model" "$@"
else
  cd "$build"
  # ctest's output as it is, then one closing line naming what was skipped
  # (its headline counts a skipped suite among the passed); ctest's exit status.
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  status=0
  ctest --output-on-failure -j "$jobs" | tee "$log" || status=$?
  "$root/scripts/ctest-skipped.sh" <"$log"
  exit "$status"
fi
