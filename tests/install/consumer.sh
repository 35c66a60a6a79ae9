#!/usr/bin/env bash
# ctest install.consumer: pagoda as a library, end to end. Installs the build
# tree into a scratch prefix, checks the package is whole and self-contained,
# builds examples/consumer against it alone (find_package, no path into this
# tree), and runs it on the default model: a greedy answer streamed through
# pagoda::load/Model::generate, the same tokens through prefill/decode, and
# with CUDA its own gemv_q<Q8_1> instantiation (checked where a GPU exists).
#   consumer.sh BUILD_DIR SOURCE_DIR WORK_DIR LIBDIR [--generator G] [--build-type T]
#               [--cxx-compiler P] [--cuda-compiler P] [--cuda-architectures 80,90]
# --cuda-architectures are the ones pagoda was built for: the consumer is
# configured without naming any, and its .cu must be compiled for exactly
# these (the package's default, issue 16).
# Exits 77 (ctest: skipped) when the model is missing, after building.
set -euo pipefail
cmake=${CMAKE:-cmake}  # ctest passes its own

build=$1 source=$2 work=$3 libdir=$4
shift 4
configure=()
expected_architectures=""
while (($#)); do
  case "$1" in
    --generator) configure+=(-G "$2") ;;
    --build-type) configure+=(-DCMAKE_BUILD_TYPE="$2") ;;
    --cxx-compiler) configure+=(-DCMAKE_CXX_COMPILER="$2") ;;
    --cuda-compiler) configure+=(-DCMAKE_CUDA_COMPILER="$2") ;;
    --cuda-architectures) expected_architectures=${2//,/ } ;;
    *) echo "consumer.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

prefix=$work/prefix
consumer=$work/consumer
rm -rf "$prefix" "$consumer"
mkdir -p "$work"

echo "== cmake --install $build --prefix $prefix"
if ! "$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1; then
  cat "$work/install.log"
  exit 1
fi

# The package: config, version, exported targets, the PCRE2 module they need,
# the public header and the kernel templates.
for file in "$libdir/cmake/pagoda/pagodaConfig.cmake" "$libdir/cmake/pagoda/pagodaConfigVersion.cmake" \
            "$libdir/cmake/pagoda/pagodaTargets.cmake" "$libdir/cmake/pagoda/FindPcre2.cmake" \
            include/pagoda/pagoda.hpp include/pagoda/runtime/engine.hpp include/pagoda/kernels/gemv_q.cuh \
            include/pagoda/kernels/warp_dot_q.cuh; do
  if [[ ! -f "$prefix/$file" ]]; then
    echo "FAILED: the install lacks $file" >&2
    exit 1
  fi
done
# Self-contained: nothing installed may point back into the source or build tree.
if leaks=$(grep -rlF -e "$source/" -e "$build/" "$prefix/$libdir/cmake/pagoda"); then
  echo "FAILED: installed package files name the source or build tree:" >&2
  echo "$leaks" >&2
  exit 1
fi

echo "== configure and build examples/consumer against $prefix"
"$cmake" -S "$source/examples/consumer" -B "$consumer" -DCMAKE_PREFIX_PATH="$prefix" "${configure[@]}"
if [[ -n "$expected_architectures" ]]; then
  # find_package(pagoda) alone chose them: compute_NN in the consumer's nvcc flags for each.
  for arch in $expected_architectures; do
    arch=${arch%-real}; arch=${arch%-virtual}
    if ! grep -rqF "compute_$arch" "$consumer/build.ninja" "$consumer/CMakeFiles" 2>/dev/null; then
      echo "FAILED: the consumer, naming no CUDA architectures, does not compile for sm_$arch (pagoda's)" >&2
      exit 1
    fi
  done
fi
"$cmake" --build "$consumer" -j "${PAGODA_JOBS:-2}"

model=${PAGODA_MODEL_PATH:-${HOME:-.}/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf}
if [[ ! -f "$model" ]]; then
  echo "SKIPPED: the consumer built, but the default model is missing at $model;" \
       "run scripts/fetch-model.sh (or set PAGODA_MODEL_PATH) to run it" >&2
  exit 77
fi

echo "== $consumer/pagoda-consumer $model"
"$consumer/pagoda-consumer" "$model" | tee "$work/answer.txt"
if ! grep -qx 'The capital of France is Paris\.' "$work/answer.txt"; then
  echo "FAILED: expected the greedy answer 'The capital of France is Paris.'" >&2
  exit 1
fi
