// Where the user's lines come from. On a terminal: libedit (emacs key
// bindings, history with the arrow keys, kept in a history file between
// sessions). Otherwise (a pipe, a file, a test): plain lines, no prompt, no
// echo. Both report Ctrl-C as `interrupted`, not as the end of the input.
#pragma once

#include <memory>
#include <string>

namespace pagoda::chat {

struct ReadResult {
  enum class Kind { line, end_of_input, interrupted };
  Kind kind = Kind::end_of_input;
  std::string text;  // the line, without its newline
};

class LineReader {
public:
  virtual ~LineReader() = default;
  virtual ReadResult read() = 0;
  // True for the terminal editor (the user sees a prompt and their own typing).
  [[nodiscard]] virtual bool interactive() const = 0;
};

// libedit when stdin is a terminal, plain lines otherwise. The history file
// is $PAGODA_CHAT_HISTORY (empty: none) or ~/.cache/pagoda/chat_history.
[[nodiscard]] std::unique_ptr<LineReader> make_line_reader(const char* program, bool color);

}  // namespace pagoda::chat
