#!/usr/bin/env bash
# What ptxas makes of each kernel: registers, local-memory stack frame, spill
# bytes and static shared memory, per kernel instantiation, without a GPU.
# Recompiles the CUDA units of an existing build with -Xptxas -v (into a
# scratch folder; the build is not touched) and prints a table, kernels with
# a stack frame or spills first: those read and write local memory, which a
# decode kernel at the bandwidth roofline cannot afford.
#   scripts/kernel-resources.sh [BUILD_DIR] [UNIT_REGEX]
# e.g. scripts/kernel-resources.sh build 'gemv_q_fused_q4_0|attention_decode'
set -euo pipefail
build="${1:-build}"
filter="${2:-.}"
[[ -f "$build/build.ninja" ]] || { echo "kernel-resources: no build.ninja in $build (configure and build first)" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

mapfile -t objects < <(ninja -C "$build" -t targets all | sed -n 's|^\(cuda/CMakeFiles/[^:]*\.cu\.o\): .*|\1|p' |
                       grep -E "$filter" || true)
((${#objects[@]})) || { echo "kernel-resources: no CUDA unit of $build matches '$filter'" >&2; exit 2; }

for object in "${objects[@]}"; do
  command=$(ninja -C "$build" -t commands "$object" | tail -1)
  # Same flags, ptxas verbose, output to the scratch folder.
  command="${command/ -c / -Xptxas -v -c }"
  command=$(sed -E "s| -o [^ ]+| -o $scratch/unit.o|; s| -MD -MT [^ ]+ -MF [^ ]+||" <<<"$command")
  (cd "$build" && eval "$command") 2>&1 | grep -E "Compiling entry|stack frame|Used [0-9]+ registers" || true
done > "$scratch/ptxas.log"

python3 - "$scratch/ptxas.log" <<'PY'
import re, subprocess, sys
rows, name = [], None
for line in open(sys.argv[1]):
    if m := re.search(r"Compiling entry function '([^']+)'", line):
        name = m.group(1)
    elif name and (m := re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)):
        stack, spill_st, spill_ld = map(int, m.groups())
    elif name and (m := re.search(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?", line)):
        rows.append([name, int(m.group(1)), stack, spill_st, spill_ld, int(m.group(2) or 0)])
        name = None
if not rows:
    sys.exit("kernel-resources: ptxas printed no kernels")
names = subprocess.run(["c++filt"], input="\n".join(r[0] for r in rows), capture_output=True, text=True).stdout.split("\n")
for r, n in zip(rows, names):
    r[0] = re.sub(r"pagoda::(kernels|quant|model)::", "", n.strip() or r[0])
rows.sort(key=lambda r: (-(r[2] + r[3] + r[4]), r[0]))
print("| kernel | registers | stack B | spill st/ld B | static smem B |")
print("| --- | ---: | ---: | ---: | ---: |")
for n, reg, stack, st, ld, smem in rows:
    print(f"| {n} | {reg} | {stack} | {st}/{ld} | {smem} |")
flagged = sum(1 for r in rows if r[2] + r[3] + r[4])
print(f"\n{len(rows)} kernels; {flagged} with a stack frame or spills")
PY
