#!/usr/bin/env bash
# The virtualenv the server's client tests run in: the pinned OpenAI client
# (requirements.txt) installed from the Python package registry into the
# build directory. Offline is fine once it is there: a venv whose stamp
# matches requirements.txt is used as it is, without asking the registry.
# PAGODA_WHEELS=DIR installs from wheels there instead of the registry (a
# machine with no network, such as the lent GPU machine: `pip download` them
# elsewhere first).
#   venv.sh VENV_DIR
set -euo pipefail
venv=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
requirements="$here/requirements.txt"
stamp="$venv/pagoda-requirements.txt"

if [[ -x "$venv/bin/python" ]] && cmp -s "$requirements" "$stamp" && "$venv/bin/python" -c "import openai" 2>/dev/null; then
  echo "server venv: $venv is up to date (openai $("$venv/bin/python" -c 'import openai; print(openai.__version__)'))"
  exit 0
fi
if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  echo "FAIL: python3's venv module (with ensurepip) is missing: install Debian's python3-venv" >&2
  exit 1
fi
rm -rf "$venv"
python3 -m venv "$venv"
source_flags=()
[[ -n ${PAGODA_WHEELS:-} ]] && source_flags=(--no-index --find-links "$PAGODA_WHEELS")
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "${source_flags[@]}" -r "$requirements"; then
  echo "FAIL: could not install the OpenAI client from the Python package registry (see above);" \
       "the first run needs the registry, later ones do not" >&2
  rm -rf "$venv"
  exit 1
fi
cp "$requirements" "$stamp"
echo "server venv: installed $(grep -c "==" "$requirements") pinned packages into $venv"
