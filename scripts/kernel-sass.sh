#!/usr/bin/env bash
# What the kernels compile to, without a GPU: the SASS of the kernels in an
# existing build's CUDA units (cuobjdump on the built objects), with a count
# per kernel of what decides a decode kernel's speed: global loads by width,
# local-memory traffic (spills, stack), calls (e.g. the IEEE division's slow
# path), tensor-core instructions, barriers. The listing of each kernel goes
# to OUT_DIR (default: a scratch folder, removed) for reading.
#   scripts/kernel-sass.sh [BUILD_DIR] [UNIT_REGEX] [KERNEL_REGEX] [OUT_DIR]
# e.g. scripts/kernel-sass.sh build matmul_few_streams_q4_0 GatedRows /tmp/sass
# cuobjdump: $PAGODA_CUOBJDUMP, else on PATH, else the CUDA Toolkit's. Where
# the toolkit lacks it, NVIDIA's wheel has it: `pip download --no-deps
# nvidia-cuda-cuobjdump` and unzip nvidia/cu13/bin/cuobjdump from it.
set -euo pipefail
build="${1:-build}"
unit_filter="${2:-.}"
kernel_filter="${3:-.}"
out="${4:-}"
[[ -f "$build/build.ninja" ]] || { echo "kernel-sass: no build.ninja in $build (configure and build first)" >&2; exit 2; }
cuobjdump="${PAGODA_CUOBJDUMP:-$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)}"
[[ -x "$cuobjdump" ]] || {
  echo "kernel-sass: no cuobjdump (set PAGODA_CUOBJDUMP; the wheel nvidia-cuda-cuobjdump on PyPI carries one)" >&2
  exit 2
}
if [[ -z "$out" ]]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

mapfile -t objects < <(ninja -C "$build" -t targets all | sed -n 's|^\(cuda/CMakeFiles/[^:]*\.cu\.o\): .*|\1|p' |
                       grep -E "$unit_filter" || true)
((${#objects[@]})) || { echo "kernel-sass: no CUDA unit of $build matches '$unit_filter'" >&2; exit 2; }
for object in "${objects[@]}"; do
  [[ -f "$build/$object" ]] || { echo "kernel-sass: $build/$object is not built" >&2; exit 2; }
  "$cuobjdump" -sass "$build/$object"
done > "$out/all.sass"

python3 - "$out" "$kernel_filter" <<'PY'
import collections, re, subprocess, sys
out, kernel_filter = sys.argv[1], sys.argv[2]
kernels, name = collections.OrderedDict(), None
for line in open(f"{out}/all.sass"):
    if m := re.match(r"\s*Function : (\S+)", line):
        name = m.group(1)
        kernels[name] = []
    elif name and (m := re.search(r"/\*[0-9a-f]{4,}\*/\s+(.*?);", line)):
        kernels[name].append(m.group(1).strip())
if not kernels:
    sys.exit("kernel-sass: cuobjdump printed no kernels")
demangled = subprocess.run(["c++filt"], input="\n".join(kernels), capture_output=True, text=True).stdout.split("\n")
print("| kernel | instructions | LDG.128 | LDG other | LDS | STL/LDL | CALL | HMMA/HGMMA | BAR |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
shown = 0
for (mangled, code), pretty in zip(kernels.items(), demangled):
    pretty = re.sub(r"pagoda::(kernels|quant|model)::", "", pretty.strip() or mangled)
    if not re.search(kernel_filter, pretty):
        continue
    shown += 1
    ops = [c.split()[0] if not c.startswith("@") else c.split()[1] for c in code]
    count = lambda pred: sum(1 for o in ops if pred(o))
    ldg128 = count(lambda o: o.startswith("LDG") and ".128" in o)
    ldg = count(lambda o: o.startswith("LDG")) - ldg128
    local = count(lambda o: o.startswith(("STL", "LDL")))
    print(f"| {pretty[:140]} | {len(ops)} | {ldg128} | {ldg} | {count(lambda o: o.startswith('LDS'))} | {local} | "
          f"{count(lambda o: o.startswith('CALL'))} | {count(lambda o: o.startswith(('HMMA', 'HGMMA')))} | "
          f"{count(lambda o: o.startswith('BAR'))} |")
    safe = re.sub(r"[^A-Za-z0-9_]+", "_", pretty)[:120]
    with open(f"{out}/{safe}.sass", "w") as f:
        f.write("\n".join(code) + "\n")
print(f"\n{shown} of {len(kernels)} kernels; listings in {out}" if shown else "no kernel matches")
PY
