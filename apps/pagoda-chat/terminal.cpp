#include "terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/core.h>

namespace pagoda::chat {

namespace {

constexpr std::string_view reset = "\033[0m";
constexpr std::string_view cyan = "\033[36m";
constexpr std::string_view yellow = "\033[33m";
constexpr std::string_view faint = "\033[2m";

}  // namespace

Terminal::Terminal(bool color)
    : stdout_color_(color && isatty(STDOUT_FILENO)),
      stderr_color_(color && isatty(STDERR_FILENO)),
      stderr_terminal_(isatty(STDERR_FILENO)) {}

void Terminal::line(std::string_view style, std::string_view text) const {
  std::fflush(stdout);  // what was streamed comes first
  if (stderr_color_ && !style.empty())
    fmt::print(stderr, "{}{}{}\n", style, text, reset);
  else
    fmt::print(stderr, "{}\n", text);
  std::fflush(stderr);
}

void Terminal::status(std::string_view text) const { line({}, fmt::format("pagoda-chat: {}", text)); }
void Terminal::notice(std::string_view text) const { line(cyan, text); }
void Terminal::warning(std::string_view text) const { line(yellow, text); }
void Terminal::dim(std::string_view text) const { line(faint, text); }

void Terminal::answer_text(std::string_view text) const {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void Terminal::answer_end() const {
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

double tokens_per_second(std::size_t tokens, double seconds) {
  return seconds > 0 ? static_cast<double>(tokens) / seconds : 0.0;
}

std::string stats_line(const GenerationStats& stats, std::size_t prompt_size, std::uint32_t used,
                       std::uint32_t context) {
  return fmt::format("[prefilled {} of {} prompt tokens ({} cached) at {:.1f} t/s | generated {} tokens at {:.1f} t/s "
                     "| context {}/{}]",
                     stats.prompt_tokens, prompt_size, prompt_size - stats.prompt_tokens,
                     tokens_per_second(stats.prompt_tokens, stats.prompt_seconds), stats.generated_tokens,
                     tokens_per_second(stats.generated_tokens, stats.generate_seconds), used, context);
}

std::string human_bytes(std::uintmax_t bytes) {
  constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", value, units[unit]);
}

Spinner::Spinner(const Terminal& terminal, std::string label) {
  if (!terminal.stderr_is_terminal()) return;
  // One line that "\r" can redraw: no wider than the terminal.
  winsize size{};
  const std::size_t width = ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col : 80;
  constexpr std::size_t room_for_time = 15;  // "| ", "... ", "123.4 s"
  if (label.size() + room_for_time > width)
    label = label.substr(0, width > 2 * room_for_time ? width - room_for_time : 0) + "...";
  thread_ = std::thread([this, label = std::move(label)] {
    constexpr std::string_view frames = "|/-\\";
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t frame = 0; !done_.load(); ++frame) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print(stderr, "\r{} {} {:.1f} s", frames[frame % frames.size()], label, seconds);
      std::fflush(stderr);
      for (int i = 0; i < 10 && !done_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    fmt::print(stderr, "\r\033[K");
    std::fflush(stderr);
  });
}

Spinner::~Spinner() {
  done_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace pagoda::chat
