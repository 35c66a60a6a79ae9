#!/usr/bin/env bash
# pagoda-chat driven as a user would, through stdin pipes (the plain-line
# path; tests/chat/pty_chat.cpp covers the terminal):
#   cases.sh CASE APP [PTY_DRIVER]
# Each case prints what the app printed, then PASS or FAIL: why. Cases that
# need the model fail, saying how to fetch it, when it is missing.
set -uo pipefail
case_name=$1 app=$2 pty_driver=${3:-}
model="${PAGODA_MODEL_PATH:-$HOME/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
france="What is the capital of France? Answer in one sentence."
paris="The capital of France is Paris."

fail() { echo "FAIL: $*" >&2; exit 1; }
need_model() { [[ -f "$model" ]] || { echo "FAIL: the default model is missing at $model; run scripts/fetch-model.sh (or set PAGODA_MODEL_PATH)"; exit 1; }; }

# chat INPUT ARGS...: pipes INPUT into the app; stdout in $work/out, stderr in $work/err.
chat() {
  local input=$1
  shift
  printf '%s' "$input" | "$app" -m "$model" "$@" >"$work/out" 2>"$work/err"
  status=$?
  echo "---- stdout ----"; cat "$work/out"; echo "---- stderr ----"; cat "$work/err"; echo "----------------"
}

# The Nth (1-based) stats line's numbers: prefilled, prompt, cached, generated.
stats_of() {
  local line='^\[prefilled ([0-9]+) of ([0-9]+) prompt tokens \(([0-9]+) cached\).*generated ([0-9]+) tokens.*'
  sed -nE "s/$line/\\1 \\2 \\3 \\4/p" "$work/err" | sed -n "${1}p"
}

# Errors: exactly one line, the expected exit status, the expected words.
one_line_error() {
  local expected_status=$1 regex=$2
  shift 2
  "$app" "$@" </dev/null >"$work/out" 2>&1
  status=$?
  cat "$work/out"
  [[ $status -eq $expected_status ]] || fail "exit status $status, expected $expected_status"
  [[ $(wc -l <"$work/out") -eq 1 ]] || fail "expected one line of output"
  grep -Eq -- "$regex" "$work/out" || fail "output does not match /$regex/"
}

case "$case_name" in
one_shot_greedy)
  need_model
  chat "" --temp 0 -n 32 -p "$france"
  [[ $status -eq 0 ]] || fail "exit status $status"
  [[ "$(cat "$work/out")" == "$paris" ]] || fail "stdout is not exactly '$paris'"
  [[ $(wc -l <"$work/out") -eq 1 ]] || fail "stdout has more than the answer"
  read -r prefilled prompt cached generated < <(stats_of 1)
  [[ $prefilled -eq $prompt && $cached -eq 0 && $generated -gt 0 ]] || fail "stats line"
  grep -q "^pagoda-chat: ready: " "$work/err" || fail "no ready line"
  ;;
verbose)
  need_model
  chat "" --temp 0 -n 16 --verbose -p "$france"
  [[ $status -eq 0 && "$(cat "$work/out")" == "$paris" ]] || fail "answer"
  grep -q "^pagoda-chat: loading .*placing the weights" "$work/err" || fail "no load stage"
  grep -q "^pagoda-chat: weights: " "$work/err" || fail "no placement line"
  grep -q "^rendered prompt (4[0-9] tokens; the cache holds 0):" "$work/err" || fail "no rendered prompt"
  grep -q "^<|im_start|>user$" "$work/err" || fail "the rendered prompt is not shown"
  grep -q "^per-token timing: first text after [0-9]* ms" "$work/err" || fail "no per-token timing"
  ;;
two_turns_prefill_only_new)
  need_model
  chat "$france"$'\nAnd of Germany?\n/stats\n' --temp 0 -n 16
  [[ $status -eq 0 ]] || fail "exit status $status"
  [[ "$(sed -n 1p "$work/out")" == "$paris" ]] || fail "first answer"
  grep -q "Berlin" "$work/out" || fail "second answer"
  read -r p1 n1 c1 g1 < <(stats_of 1)
  read -r p2 n2 c2 g2 < <(stats_of 2)
  # The cache holds turn 1's prompt and answer: turn 2 prefills only the rest.
  expected=$((n2 - (n1 + g1)))
  echo "turn 1: prompt $n1, answer $g1; turn 2: prompt $n2, prefilled $p2, cached $c2 (expected prefill $expected)"
  [[ $p1 -eq $n1 && $c1 -eq 0 ]] || fail "turn 1 should prefill its whole prompt"
  [[ $p2 -eq $expected && $c2 -eq $((n1 + g1)) ]] || fail "turn 2 prefilled $p2 tokens, expected $expected"
  [[ $((p2 * 3)) -lt $n2 ]] || fail "turn 2's prefill ($p2) is not much smaller than the conversation ($n2)"
  grep -q "^context: $((n2 + g2)) of 4096 tokens used" "$work/err" || fail "/stats context"
  grep -q "^session: 2 answers; $((p1 + p2)) tokens prefilled, $((g1 + g2)) tokens generated" "$work/err" ||
    fail "/stats totals"
  ;;
reset)
  need_model
  chat "$france"$'\n/reset\n/stats\n'"$france"$'\n' --temp 0 -n 16
  [[ $status -eq 0 ]] || fail "exit status $status"
  [[ "$(cat "$work/out")" == "$paris"$'\n'"$paris" ]] || fail "the same question after /reset gives another answer"
  grep -q "^context: 0 of 4096 tokens used" "$work/err" || fail "/reset did not empty the context"
  read -r p1 n1 c1 _ < <(stats_of 1)
  read -r p2 n2 c2 _ < <(stats_of 2)
  [[ $p2 -eq $n2 && $c2 -eq 0 && $n2 -eq $n1 ]] || fail "after /reset the whole prompt is prefilled again"
  ;;
save)
  need_model
  chat "$france"$'\n/save '"$work"$'/chat.md\n/save '"$work"$'/chat.txt\n/save '"$work"$'/no/such/dir/x.txt\n/save\n' \
    --temp 0 -n 16 -s "You answer geography questions."
  [[ $status -eq 0 ]] || fail "exit status $status (a failed /save must not end the chat)"
  grep -qF "**System:** You answer geography questions." "$work/chat.md" || fail "markdown: system prompt"
  grep -qF "**User:** $france" "$work/chat.md" || fail "markdown: user message"
  grep -qF "**Assistant:** $(sed -n 1p "$work/out")" "$work/chat.md" || fail "markdown: answer"
  grep -qxF "user: $france" "$work/chat.txt" || fail "plain text: user message"
  grep -qxF "assistant: $(sed -n 1p "$work/out")" "$work/chat.txt" || fail "plain text: answer"
  grep -q "^saved 3 messages to $work/chat.md" "$work/err" || fail "no confirmation"
  grep -q "no/such/dir/x.txt: cannot write the transcript: No such file or directory" "$work/err" ||
    fail "an unwritable file is not reported"
  grep -q "^/save needs a file name" "$work/err" || fail "/save without a file"
  cat "$work/chat.md"
  ;;
system_prompt)
  need_model
  chat $'What is your name?\n/system Your name is Pagoda. You are a friendly pirate.\n/system\nWhat is your name?\n' \
    --temp 0 -n 12
  [[ $status -eq 0 ]] || fail "exit status $status"
  first=$(sed -n 1p "$work/out") second=$(sed -n 2p "$work/out")
  [[ -n "$first" && -n "$second" && "$first" != "$second" ]] || fail "/system did not change the reply"
  grep -qiE "pirate|aye|arr|matey" <<<"$second" || fail "the reply does not follow the new system prompt"
  grep -q "^new conversation with this system prompt" "$work/err" || fail "no notice"
  grep -q "^system prompt: Your name is Pagoda. You are a friendly pirate.$" "$work/err" || fail "/system alone"
  read -r p2 n2 c2 _ < <(stats_of 2)
  [[ $c2 -eq 0 ]] || fail "a new system prompt must start a new conversation"
  ;;
help)
  need_model
  chat $'/help\n/nonsense\n' -n 8
  [[ $status -eq 0 ]] || fail "exit status $status"
  for command in /help /reset /stats "/system TEXT" "/save FILE" /exit; do
    grep -qE "^  $command " "$work/err" || fail "/help does not list $command"
  done
  grep -q "^unknown command /nonsense: /help lists the commands" "$work/err" || fail "unknown command"
  [[ ! -s "$work/out" ]] || fail "commands printed on stdout"
  ;;
context_full_stop)
  need_model
  # -c 72, -n 16: the first exchange fits (42 + 16 for the answer), the second does not.
  chat "$france"$'\nAnd of Germany?\n/reset\nWhat is the capital of Germany? Answer in one sentence.\n' \
    --temp 0 -n 16 -c 72
  [[ $status -eq 0 ]] || fail "exit status $status"
  [[ "$(sed -n 1p "$work/out")" == "$paris" ]] || fail "first answer"
  full="^the context is full: the conversation with this message is [0-9]* tokens, and the context of 72 must"
  grep -q "$full also hold 16 for the answer. Type /reset" "$work/err" || fail "no context-full message"
  [[ $(grep -c "^\[prefilled" "$work/err") -eq 2 ]] || fail "the refused turn ran anyway"
  grep -q "Berlin" <<<"$(sed -n 2p "$work/out")" || fail "no answer after /reset"
  # An answer that fills the context is cut, and says so.
  chat $'Tell me a story about a cat.\n' --temp 0 -n 64 -c 52
  grep -q "^the context of 52 tokens is full: the answer was cut. Type /reset" "$work/err" || fail "no cut message"
  grep -q "context 52/52\]" "$work/err" || fail "the answer did not fill the context"
  ;;
context_full_drop_oldest)
  need_model
  chat "$france"$'\nAnd of Germany?\n/stats\n' --temp 0 -n 16 -c 72 --context-full drop-oldest
  [[ $status -eq 0 ]] || fail "exit status $status"
  [[ "$(sed -n 1p "$work/out")" == "$paris" ]] || fail "first answer"
  dropped="^the context is full: dropped the oldest 1 exchange \(the conversation is now ([0-9]+) tokens, was 64;"
  grep -Eq "$dropped the system prompt stays\)" "$work/err" || fail "no drop message"
  now=$(sed -nE "s/$dropped.*/\1/p" "$work/err")
  read -r _ n2 _ _ < <(stats_of 2)
  [[ $n2 -eq $now ]] || fail "the second turn's prompt is $n2 tokens, the notice said $now"
  [[ $(grep -c "^\[prefilled" "$work/err") -eq 2 ]] || fail "the second turn did not run"
  grep -q "^context: [0-9]* of 72 tokens used ([0-9]*%), 1 exchange in this conversation" "$work/err" ||
    fail "the oldest exchange is still in the conversation"
  ;;
terminal)
  need_model
  "$app" --version | grep -q "line editing: libedit" || { echo "SKIP: built without libedit"; exit 77; }
  # The terminal path: tests/chat/pty_chat.cpp says what it plays.
  "$pty_driver" "$app" -m "$model" --temp 0 -n 400 -c 1024 || fail "the terminal session"
  ;;
missing_model)
  one_line_error 1 "^pagoda-chat: /no/such/model.gguf: cannot open: No such file" -m /no/such/model.gguf
  ;;
truncated_model)
  need_model
  head -c 5000000 "$model" >"$work/truncated.gguf"
  one_line_error 1 "^pagoda-chat: .*invalid GGUF: tensor '.*' .*extend past the end of the file" \
    -m "$work/truncated.gguf"
  ;;
unknown_flag)
  one_line_error 2 "^pagoda-chat: unrecognised option '--bogus' \(see --help\)$" --bogus
  ;;
value_out_of_range)
  one_line_error 2 "^pagoda-chat: --temp must be between 0 and 10 \(got 11\) \(see --help\)$" --temp 11
  one_line_error 2 "^pagoda-chat: --context-full must be stop or drop-oldest \(got never\)" --context-full never
  one_line_error 2 "^pagoda-chat: --ctx-size must be between 16 and 1048576 \(or 0: the model's\) \(got 8\)" -c 8
  ;;
*)
  fail "unknown case $case_name"
  ;;
esac
echo PASS
