#include "line_reader.hpp"

#include <langinfo.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cwchar>
#include <filesystem>
#include <utility>

#if PAGODA_CHAT_LIBEDIT
#include <histedit.h>
#endif

#include "interrupt.hpp"

namespace pagoda::chat {

namespace {

enum class Wait { input, signal, error };

// Waits until `fd` has input or a signal arrived (see interrupt.hpp).
Wait wait_for_input(int fd) {
  pollfd fds[2] = {{fd, POLLIN, 0}, {InterruptHandler::wake_fd(), POLLIN, 0}};
  const nfds_t count = fds[1].fd >= 0 ? 2 : 1;
  for (;;) {
    if (InterruptHandler::pending()) return Wait::signal;
    const int ready = poll(fds, count, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Wait::error;
    }
    if (count == 2 && (fds[1].revents & POLLIN)) {
      InterruptHandler::drain_wake();
      return Wait::signal;
    }
    if (fds[0].revents) return Wait::input;
  }
}

// ---- Plain lines (not a terminal) ----------------------------------------

class PlainReader final : public LineReader {
public:
  ReadResult read() override {
    InterruptHandler::clear();
    for (;;) {
      if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
        ReadResult line{ReadResult::Kind::line, buffer_.substr(0, newline)};
        buffer_.erase(0, newline + 1);
        if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
        return line;
      }
      if (at_end_) {
        if (buffer_.empty()) return {};
        return {ReadResult::Kind::line, std::exchange(buffer_, {})};
      }
      const auto wait = wait_for_input(STDIN_FILENO);
      if (wait == Wait::signal) {
        if (InterruptHandler::take()) return {ReadResult::Kind::interrupted, {}};
        continue;  // a resize
      }
      char chunk[4096];
      const ssize_t got = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) at_end_ = true;
      else buffer_.append(chunk, static_cast<std::size_t>(got));
    }
  }
  [[nodiscard]] bool interactive() const override { return false; }

private:
  std::string buffer_;
  bool at_end_ = false;
};

// ---- libedit (a terminal) --------------------------------------------------
#if PAGODA_CHAT_LIBEDIT

// libedit reads and writes wide characters: give it UTF-8 even under the C locale.
void use_utf8_ctype() {
  std::setlocale(LC_CTYPE, "");
  if (std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0) std::setlocale(LC_CTYPE, "C.UTF-8");
}

std::string history_path() {
  if (const char* path = std::getenv("PAGODA_CHAT_HISTORY")) return path;
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.cache/pagoda/chat_history" : std::string();
}

class EditLineReader final : public LineReader {
public:
  EditLineReader(const char* program, bool color)
      : history_file_(history_path()) {
    use_utf8_ctype();
    // Editing goes where the user looks: stdout, or stderr if stdout is piped.
    FILE* out = isatty(STDOUT_FILENO) ? stdout : stderr;
    prompt_ = color && isatty(fileno(out)) ? "\1\033[1;32m\1>\1\033[0m\1 " : "> ";
    editor_ = el_init(program, stdin, out, stderr);
    history_ = history_init();
    HistEvent event;
    history(history_, &event, H_SETSIZE, 1000);
    history(history_, &event, H_SETUNIQUE, 1);
    if (!history_file_.empty()) history(history_, &event, H_LOAD, history_file_.c_str());
    el_set(editor_, EL_CLIENTDATA, this);
    el_set(editor_, EL_PROMPT_ESC, &EditLineReader::prompt, '\1');
    el_set(editor_, EL_EDITOR, "emacs");
    el_set(editor_, EL_HIST, history, history_);
    el_set(editor_, EL_SIGNAL, 0);  // Ctrl-C is ours (interrupt.hpp), not libedit's
    el_set(editor_, EL_GETCFN, &EditLineReader::get_char);
    el_source(editor_, nullptr);  // ~/.editrc
  }

  ~EditLineReader() override {
    if (!history_file_.empty()) {
      std::error_code ignored;
      std::filesystem::create_directories(std::filesystem::path(history_file_).parent_path(), ignored);
      HistEvent event;
      history(history_, &event, H_SAVE, history_file_.c_str());
    }
    el_end(editor_);
    history_end(history_);
  }
  EditLineReader(const EditLineReader&) = delete;
  EditLineReader& operator=(const EditLineReader&) = delete;

  ReadResult read() override {
    InterruptHandler::clear();
    int count = 0;
    const char* line = el_gets(editor_, &count);
    if (InterruptHandler::take()) return {ReadResult::Kind::interrupted, {}};
    if (!line || count <= 0) return {};
    std::string text(line, static_cast<std::size_t>(count));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (!text.empty()) {
      HistEvent event;
      history(history_, &event, H_ENTER, text.c_str());
    }
    return {ReadResult::Kind::line, std::move(text)};
  }
  [[nodiscard]] bool interactive() const override { return true; }

private:
  static EditLineReader& self(EditLine* editor) {
    void* data = nullptr;
    el_get(editor, EL_CLIENTDATA, &data);
    return *static_cast<EditLineReader*>(data);
  }

  static char* prompt(EditLine* editor) { return self(editor).prompt_.data(); }

  // libedit's character source: one wide character from stdin, or -1 (with
  // the interrupt flag set) for Ctrl-C, 0 at the end of input.
  static int get_char(EditLine* editor, wchar_t* out) {
    std::mbstate_t state{};
    for (;;) {
      const auto wait = wait_for_input(STDIN_FILENO);
      if (InterruptHandler::take_resize()) el_resize(editor);
      if (wait == Wait::signal) {
        if (InterruptHandler::pending()) return -1;
        continue;
      }
      if (wait == Wait::error) return -1;
      char byte = 0;
      const ssize_t got = ::read(STDIN_FILENO, &byte, 1);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return -1;
      if (got == 0) return 0;
      if (byte == '\x03') {  // a terminal that delivers Ctrl-C as a character
        InterruptHandler::raise();
        return -1;
      }
      wchar_t wide = 0;
      const std::size_t used = std::mbrtowc(&wide, &byte, 1, &state);
      if (used == static_cast<std::size_t>(-2)) continue;  // more bytes of this character to come
      *out = used == static_cast<std::size_t>(-1) ? static_cast<wchar_t>(static_cast<unsigned char>(byte)) : wide;
      return 1;
    }
  }

  std::string prompt_;
  std::string history_file_;
  EditLine* editor_ = nullptr;
  History* history_ = nullptr;
};

#endif  // PAGODA_CHAT_LIBEDIT

}  // namespace

std::unique_ptr<LineReader> make_line_reader([[maybe_unused]] const char* program, [[maybe_unused]] bool color) {
#if PAGODA_CHAT_LIBEDIT
  if (isatty(STDIN_FILENO)) return std::make_unique<EditLineReader>(program, color);
#endif
  return std::make_unique<PlainReader>();
}

}  // namespace pagoda::chat
