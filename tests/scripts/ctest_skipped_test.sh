#!/usr/bin/env bash
# scripts/ctest-skipped.sh, the closing line of `scripts/bootstrap.sh test`
# (and .ci/run): fed ctest's real ending, it names every skipped test, the GPU
# suite with why, and says so when nothing was skipped.
#   ctest_skipped_test.sh SCRIPT
set -uo pipefail
script=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
check() {  # check INPUT EXPECTED
  local got
  got=$(printf '%b' "$1" | "$script") || fail "the script failed on: $1"
  echo "$got"
  [[ "$got" == "$2" ]] || fail "expected: $2"
}
ending='100% tests passed, 0 tests failed out of 56\n\nLabel Time Summary:\napp    =  12.00 sec*proc (40 tests)\n\nTotal Test time (real) = 300.00 sec\n'
check "${ending}\nThe following tests did not run:\n\t 44 - gpu (Skipped)\n" \
  "pagoda: skipped, not passed: 1 test: gpu (the GPU suite: no usable CUDA device)"
check "${ending}\nThe following tests did not run:\n\t  7 - chat.terminal_ctrl_c_and_history (Skipped)\n\t 44 - gpu (Skipped)\n\t 52 - install.consumer (Skipped)\n" \
  "pagoda: skipped, not passed: 3 tests: chat.terminal_ctrl_c_and_history, gpu (the GPU suite: no usable CUDA device), install.consumer"
check "$ending" "pagoda: no test was skipped"
# A test whose output mentions "(Skipped)" before the list is not counted.
check "  1/2 Test #44: gpu ... ***Skipped   0.01 sec\n${ending}" "pagoda: no test was skipped"
echo PASS
