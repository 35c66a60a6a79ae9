#!/usr/bin/env bash
# Reads ctest's output on stdin and prints one closing line naming the tests
# that were skipped — ctest's own headline says "100% tests passed" even when
# the GPU suite did not run (issue 16). Used by scripts/bootstrap.sh test
# (and so by .ci/run) after ctest's output, which it leaves as it was.
#   ctest ... | tee LOG; scripts/ctest-skipped.sh < LOG
set -euo pipefail
# ctest ends with "The following tests did not run:" and one "<tab> N - NAME (Skipped)" line per test.
mapfile -t skipped < <(sed -n '/^The following tests did not run:/,$ s/^[[:space:]]*[0-9][0-9]* - \(.*\) (Skipped)$/\1/p')
if ((${#skipped[@]} == 0)); then
  echo "pagoda: no test was skipped"
else
  count=${#skipped[@]}
  for i in "${!skipped[@]}"; do
    [[ "${skipped[i]}" == gpu ]] && skipped[i]="gpu (the GPU suite: no usable CUDA device)"
  done
  list=$(printf '%s, ' "${skipped[@]}")
  list=${list%, }
  echo "pagoda: skipped, not passed: $count test$( ((count > 1)) && echo s): $list"
fi
