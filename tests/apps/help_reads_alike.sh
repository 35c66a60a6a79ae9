#!/usr/bin/env bash
# The three apps' --help read alike (issue 16): "APP: what it does", a blank
# line, "Usage: APP ..." lines, then the flags in groups; no line wider than
# the shared layout's 110 columns, and no word cut across lines (checked on the
# longest unbroken words each help must show whole).
#   help_reads_alike.sh CHAT GENERATE SYNTH
set -uo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
declare -A whole=(
  [pagoda-chat]="drop-oldest hugepage-import --n-predict=-1: \$PAGODA_MODEL_PATH"
  [pagoda-generate]="hugepage-import --n-predict=-1: --raw"
  [pagoda-synth]="layers=N,d=N,heads=N,kv=N,ffn=N,vocab=N, arch=llama|qwen2|gemma3, tokenizer=llama3|smollm|qwen2|gemma"
)
for app in "$@"; do
  name=$(basename "$app")
  help=$("$app" --help) || fail "$name --help exits non-zero"
  echo "$help"
  [[ "$(sed -n 1p <<<"$help")" == "$name: "* ]] || fail "$name: the first line does not say what $name is"
  [[ -z "$(sed -n 2p <<<"$help")" ]] || fail "$name: no blank line after the summary"
  [[ "$(sed -n 3p <<<"$help")" == "Usage: $name "* ]] || fail "$name: the third line is not its usage"
  grep -Eq '^[A-Z][A-Za-z ,()'"'"'.:-]*:$' <<<"$help" || fail "$name: the flags are not in captioned groups"
  wide=$(awk 'length($0) > 110' <<<"$help")
  [[ -z "$wide" ]] || fail "$name: lines wider than 110 columns: $wide"
  if [[ -n "${whole[$name]:-}" ]]; then
    for word in ${whole[$name]}; do
      grep -qF -- "$word" <<<"$help" || fail "$name: '$word' is not shown whole (cut across lines?)"
    done
  fi
done
echo PASS
