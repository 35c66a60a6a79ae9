// Drives pagoda-chat through a pseudo-terminal, as a person at a keyboard
// would: the line editor is on (libedit: prompt, echo, history), Ctrl-C is a
// real SIGINT from the terminal's line discipline, not a kill(2) from a test.
//
//   pty_chat APP [APP ARGS...]
//
// The session it plays, each step waiting (at most 90 s) for what the user
// would see:
//   1. "/stats", then Up-arrow + Enter: the history recalls it, it runs twice.
//   2. A question with a long answer; Ctrl-C once the answer is streaming:
//      the answer stops ("answer stopped"), with fewer tokens than -n.
//   3. The app still answers the next question ("Paris").
//   4. Ctrl-C at the prompt: a hint; a second Ctrl-C: the app exits with 0.
//   5. The history file (PAGODA_CHAT_HISTORY) holds what was typed.
// Exits 0 when all of it happened; otherwise prints what was expected and
// the screen so far, and exits 1.
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto step_timeout = std::chrono::seconds(90);

// The screen as text: escape sequences (colour, cursor moves) removed.
std::string plain(const std::string& raw) {
  static const std::regex escapes("\x1b\\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]|\r");
  return std::regex_replace(raw, escapes, "");
}

class Session {
public:
  Session(int master, pid_t child) : master_(master), child_(child) {}

  void send(const std::string& keys) {
    std::size_t done = 0;
    while (done < keys.size()) {
      const ssize_t wrote = write(master_, keys.data() + done, keys.size() - done);
      if (wrote <= 0) fail("cannot write to the terminal");
      done += static_cast<std::size_t>(wrote);
    }
  }

  // Waits until the screen after `from` matches `pattern`; returns the match's end.
  std::size_t expect(const std::string& pattern, std::size_t from, const char* step) {
    const std::regex re(pattern);
    const auto deadline = Clock::now() + step_timeout;
    for (;;) {
      const std::string screen = plain(raw_);
      std::smatch match;
      if (from <= screen.size()) {
        const std::string rest = screen.substr(from);
        if (std::regex_search(rest, match, re))
          return from + static_cast<std::size_t>(match.position(0) + match.length(0));
      }
      if (Clock::now() > deadline) fail(std::string(step) + ": timed out waiting for /" + pattern + "/");
      if (!pump(200)) fail(std::string(step) + ": the app ended before /" + pattern + "/");
    }
  }

  [[nodiscard]] std::size_t screen_size() const { return plain(raw_).size(); }
  [[nodiscard]] std::string screen() const { return plain(raw_); }

  // Reads what the app wrote for up to `ms`; false once the app has gone.
  bool pump(int ms) {
    pollfd fd{master_, POLLIN, 0};
    if (poll(&fd, 1, ms) <= 0) return true;
    char buffer[4096];
    const ssize_t got = read(master_, buffer, sizeof buffer);
    if (got <= 0) return false;  // EIO: the child closed the terminal
    raw_.append(buffer, static_cast<std::size_t>(got));
    return true;
  }

  int wait_exit() {
    const auto deadline = Clock::now() + step_timeout;
    int status = 0;
    while (waitpid(child_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) fail("the app did not exit");
      pump(100);
    }
    child_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  [[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "FAIL: %s\n---- screen ----\n%s\n----------------\n", why.c_str(), plain(raw_).c_str());
    if (child_ > 0) kill(child_, SIGKILL);
    std::exit(1);
  }

private:
  int master_;
  pid_t child_;
  std::string raw_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pty_chat APP [APP ARGS...]\n");
    return 2;
  }
  char history[] = "/tmp/pagoda-chat-history-XXXXXX";
  const int history_fd = mkstemp(history);
  if (history_fd < 0) return 2;
  close(history_fd);

  winsize size{};
  size.ws_row = 40;
  size.ws_col = 160;
  int master = -1;
  const pid_t child = forkpty(&master, nullptr, nullptr, &size);
  if (child < 0) {
    std::perror("forkpty");
    return 2;
  }
  if (child == 0) {
    setenv("TERM", "xterm-256color", 1);
    setenv("PAGODA_CHAT_HISTORY", history, 1);
    unsetenv("NO_COLOR");
    execv(argv[1], argv + 1);
    std::perror("execv");
    _exit(127);
  }
  Session s(master, child);
  const std::string prompt = "\n> $";

  // 1. The prompt; /stats; Up-arrow recalls it from the history.
  std::size_t at = s.expect("ready: .*\n(.*\n)*> ", 0, "start");
  s.send("/stats\r");
  at = s.expect("context: 0 of [0-9]+ tokens used", at, "/stats");
  at = s.expect(prompt, at, "prompt after /stats");
  s.send("\x1b[A\r");
  at = s.expect("context: 0 of [0-9]+ tokens used", at, "Up-arrow recalls /stats");
  at = s.expect(prompt, at, "prompt after the recalled /stats");

  // 2. Ctrl-C while the answer streams.
  s.send("Write a long story about a brave dragon who learns to fly.\r");
  at = s.expect("dragon who learns to fly\\.\n[\\s\\S]{12,}", at, "the answer streams");
  s.send("\x03");
  at = s.expect("\\(answer stopped: Ctrl-C\\)", at, "Ctrl-C stops the answer");
  at = s.expect("generated [0-9]+ tokens", at, "stats line after the stop");
  at = s.expect(prompt, at, "prompt after the stop");

  // 3. The next question is answered.
  s.send("What is the capital of France? Answer in one sentence.\r");
  at = s.expect("Answer in one sentence\\.\n[^\n]*Paris", at, "the next answer");
  at = s.expect(prompt, at, "prompt after the answer");

  // 4. Ctrl-C at the prompt: a hint, then a second one quits.
  s.send("\x03");
  at = s.expect("Ctrl-C again to quit", at, "first Ctrl-C at the prompt");
  at = s.expect(prompt, at, "prompt after the hint");
  s.send("\x03");
  const int status = s.wait_exit();
  if (status != 0) s.fail("exit status " + std::to_string(status) + " after the second Ctrl-C, expected 0");

  // The interrupted answer was cut short: fewer tokens than -n allows. The
  // terminal's own "^C" echo is flushed asynchronously (it may land after the
  // app's reaction), so it is left out of the match.
  const std::string text = std::regex_replace(s.screen(), std::regex("\\^C"), "");
  std::smatch cut;
  const std::regex cut_re("\\(answer stopped: Ctrl-C\\)\n\\[prefilled [0-9]+ of [0-9]+ prompt tokens \\([0-9]+ "
                          "cached\\) at [0-9.]+ t/s \\| generated ([0-9]+) tokens");
  if (!std::regex_search(text, cut, cut_re)) s.fail("no stats line right after the stop");
  const int generated = std::stoi(cut[1].str());
  int n_predict = 0;
  for (int i = 2; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "-n") n_predict = std::atoi(argv[i + 1]);
  if (n_predict > 0 && generated >= n_predict)
    s.fail("the stopped answer has " + std::to_string(generated) + " tokens, not fewer than -n " +
           std::to_string(n_predict));

  // 5. The history file.
  std::ifstream saved(history);
  std::stringstream lines;
  lines << saved.rdbuf();
  std::remove(history);
  if (lines.str().find("/stats") == std::string::npos) s.fail("the history file does not hold /stats");

  std::printf("%s\nPASS: history, Ctrl-C stopped the answer after %d tokens, the next answer came, Ctrl-C twice "
              "quit\n",
              text.c_str(), generated);
  return 0;
}
