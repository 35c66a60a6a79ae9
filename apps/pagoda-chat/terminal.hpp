// What pagoda-chat prints besides the answers: status lines on stderr (so
// that stdout carries only answers, for scripts), coloured only where the
// stream is a terminal and colour was not turned off; the per-answer stats
// line; and a load indicator (stages, with an elapsed-time spinner on a
// terminal: the API reports no byte-level progress, see docs/chat.md).
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "pagoda/pagoda.hpp"

namespace pagoda::chat {

class Terminal {
public:
  explicit Terminal(bool color);

  [[nodiscard]] bool stdout_color() const { return stdout_color_; }
  [[nodiscard]] bool stderr_is_terminal() const { return stderr_terminal_; }

  // "pagoda-chat: TEXT" on stderr: load stages and one-shot notes.
  void status(std::string_view text) const;
  // In-chat notices on stderr: information, a problem the user can fix, the stats line.
  void notice(std::string_view text) const;
  void warning(std::string_view text) const;
  void dim(std::string_view text) const;

  // The answer stream on stdout.
  void answer_text(std::string_view text) const;
  void answer_end() const;

private:
  void line(std::string_view style, std::string_view text) const;

  bool stdout_color_;
  bool stderr_color_;
  bool stderr_terminal_;
};

// "[prefilled 12 of 57 prompt tokens (45 cached) at 120.3 t/s | generated 8
// tokens at 13.1 t/s | context 65/4096]". `prompt_size` is the whole rendered
// conversation; stats.prompt_tokens the part that was run.
[[nodiscard]] std::string stats_line(const GenerationStats& stats, std::size_t prompt_size, std::uint32_t used,
                                     std::uint32_t context);

[[nodiscard]] double tokens_per_second(std::size_t tokens, double seconds);

// "100.9 MiB", "2.1 GiB".
[[nodiscard]] std::string human_bytes(std::uintmax_t bytes);

// A spinner with the elapsed time on stderr while something blocks (only on
// a terminal); the destructor erases it.
class Spinner {
public:
  Spinner(const Terminal& terminal, std::string label);
  ~Spinner();
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace pagoda::chat
