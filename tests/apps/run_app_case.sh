#!/usr/bin/env bash
# Drives an app as a user would and checks what they would see:
#   run_app_case.sh EXPECTED_EXIT REGEX [--truncated-model] -- COMMAND...
# passes when COMMAND exits with EXPECTED_EXIT and its combined output matches
# REGEX (extended). With --truncated-model, "@TRUNCATED@" in COMMAND becomes a
# copy of $PAGODA_MODEL_PATH cut to 5 MB (a corrupt file, made fresh).
set -uo pipefail
expected_exit=$1 regex=$2
shift 2
truncated=""
if [[ "${1:-}" == "--truncated-model" ]]; then
  truncated=$(mktemp --suffix=.gguf)
  trap 'rm -f "$truncated"' EXIT
  model="${PAGODA_MODEL_PATH:-$HOME/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
  head -c 5000000 "$model" > "$truncated"
  shift
fi
[[ "${1:-}" == "--" ]] && shift
command=()
for arg in "$@"; do command+=("${arg//@TRUNCATED@/$truncated}"); done
output=$("${command[@]}" 2>&1 </dev/null)
status=$?
echo "$output"
if [[ $status -ne $expected_exit ]]; then
  echo "FAIL: exit status $status, expected $expected_exit" >&2
  exit 1
fi
if ! grep -Eq -- "$regex" <<<"$output"; then
  echo "FAIL: output does not match /$regex/" >&2
  exit 1
fi
