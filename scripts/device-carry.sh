#!/usr/bin/env bash
# Moving prebuilt work to the lent GPU machine, whose calls carry at most
# 64 MiB and whose device time is too scarce to build on: build here (for
# sm_90a), carry stripped, compressed binaries and the few runtime packages
# they need, unpack there.
#   here:   scripts/device-carry.sh runtime-debs DIR          # the runtime .debs the binaries load (~1.4 MB)
#           scripts/device-carry.sh pack BUILD_DIR DEST NAME=TARGET...
#                   # e.g. pack build .device-cache test_gpu=tests/test_gpu bench-main=benchmarks/batch-bench/pagoda-batch-bench
#           scripts/device-carry.sh pieces FILE DEST_PREFIX N # FILE xz-compressed, split into N pieces DEST_PREFIX.0/ ...
#   there:  eval "$(scripts/device-carry.sh unpack DEBS_DIR PACK [BIN_DIR])"
#                   # unpacks the .debs into /opt/rt and PACK (DEST/bins.tar.xz) into BIN_DIR (default /tmp/pagoda-bin),
#                   # links /work/main to the tree (the tests' data paths), prints the exports to eval
#           scripts/device-carry.sh join DEST_PREFIX N OUT    # the pieces back into one file (python3's lzma: no xz needed)
# Carry DEBS_DIR, DEST and the pieces with `run`'s carry list; they live in
# git-ignored folders (.device-cache/, .gl/).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
command=${1:-}
shift || true

runtime_packages=(libfmt9 libboost-program-options1.74.0 libpcre2-8-0 libcpp-httplib0.11 libbrotli1 libedit2 libbsd0 libmd0)

case "$command" in
  runtime-debs)
    dir=${1:?runtime-debs DIR}
    mkdir -p "$dir"
    (cd "$dir" && apt-get download "${runtime_packages[@]}" >/dev/null)
    du -sh "$dir"
    ;;
  pack)
    build=${1:?pack BUILD_DIR DEST NAME=TARGET...}
    dest=${2:?pack BUILD_DIR DEST NAME=TARGET...}
    shift 2
    (($#)) || { echo "device-carry: pack needs at least one NAME=TARGET" >&2; exit 2; }
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    mkdir -p "$stage/bin" "$dest"
    for pair in "$@"; do
      name=${pair%%=*} target=${pair#*=}
      [[ -x "$build/$target" ]] || { echo "device-carry: $build/$target is not built" >&2; exit 2; }
      cp "$build/$target" "$stage/bin/$name"
      strip "$stage/bin/$name"
    done
    # One xz stream with a 64 MiB dictionary (-9, one thread): the binaries
    # share most of their kernels, so each after the first costs little
    # (five binaries: 9.4 MB, against 30 MB at -6 with threads).
    tar -C "$stage" -cf - bin | xz -9 -T1 > "$dest/bins.tar.xz"
    ls -la "$dest/bins.tar.xz"
    ;;
  pieces)
    file=${1:?pieces FILE DEST_PREFIX N}
    prefix=${2:?pieces FILE DEST_PREFIX N}
    n=${3:?pieces FILE DEST_PREFIX N}
    packed=$(mktemp)
    trap 'rm -f "$packed"' EXIT
    xz -6 -T0 -c "$file" > "$packed"
    for ((i = 0; i < n; ++i)); do mkdir -p "$prefix.$i"; done
    split -n "$n" -d -a 1 "$packed" "$prefix.piece"
    for ((i = 0; i < n; ++i)); do mv "$prefix.piece$i" "$prefix.$i/piece"; done
    du -sh "$prefix".*
    ;;
  unpack)
    debs=${1:?unpack DEBS_DIR PACK [BIN_DIR]}
    pack=${2:?unpack DEBS_DIR PACK [BIN_DIR]}
    bin=${3:-/tmp/pagoda-bin}
    mkdir -p /opt/rt
    for f in "$debs"/*.deb; do dpkg -x "$f" /opt/rt; done
    mkdir -p "$bin"
    python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$pack" "$bin.tmp"
    mv "$bin.tmp"/bin/* "$bin"/ && rm -rf "$bin.tmp"
    mkdir -p /work
    [[ -e /work/main ]] || ln -s "$root" /work/main
    echo "export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/opt/rt/usr/lib/x86_64-linux-gnu PAGODA_BIN=$bin"
    ;;
  join)
    prefix=${1:?join DEST_PREFIX N OUT}
    n=${2:?join DEST_PREFIX N OUT}
    out=${3:?join DEST_PREFIX N OUT}
    python3 - "$prefix" "$n" "$out" <<'PY'
import lzma, sys
prefix, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = b"".join(open(f"{prefix}.{i}/piece", "rb").read() for i in range(n))
open(out, "wb").write(lzma.decompress(data))
PY
    ;;
  *)
    sed -n '2,19p' "${BASH_SOURCE[0]}" >&2
    exit 2
    ;;
esac
