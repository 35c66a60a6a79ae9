#include "interrupt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace pagoda::chat {

namespace {

volatile std::sig_atomic_t interrupt_pending = 0;
volatile std::sig_atomic_t resize_pending = 0;
int wake_pipe[2] = {-1, -1};
struct sigaction previous_int {};
struct sigaction previous_winch {};

void wake() {
  const int saved = errno;
  const char byte = 1;
  if (wake_pipe[1] >= 0) (void)!write(wake_pipe[1], &byte, 1);  // full pipe: already awake
  errno = saved;
}

extern "C" void on_sigint(int) {
  interrupt_pending = 1;
  wake();
}

extern "C" void on_sigwinch(int) {
  resize_pending = 1;
  wake();
}

void install(int signal, void (*handler)(int), struct sigaction& previous) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // the self-pipe wakes the readers; other calls just go on
  sigaction(signal, &action, &previous);
}

}  // namespace

InterruptHandler::InterruptHandler() {
  if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) wake_pipe[0] = wake_pipe[1] = -1;
  install(SIGINT, on_sigint, previous_int);
  install(SIGWINCH, on_sigwinch, previous_winch);
}

InterruptHandler::~InterruptHandler() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGWINCH, &previous_winch, nullptr);
  for (int& fd : wake_pipe) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

bool InterruptHandler::take() {
  const bool pending = interrupt_pending != 0;
  interrupt_pending = 0;
  return pending;
}

bool InterruptHandler::pending() { return interrupt_pending != 0; }

void InterruptHandler::raise() { interrupt_pending = 1; }

void InterruptHandler::clear() {
  drain_wake();
  interrupt_pending = 0;
}

bool InterruptHandler::take_resize() {
  const bool pending = resize_pending != 0;
  resize_pending = 0;
  return pending;
}

int InterruptHandler::wake_fd() { return wake_pipe[0]; }

void InterruptHandler::drain_wake() {
  char buffer[64];
  if (wake_pipe[0] >= 0)
    while (read(wake_pipe[0], buffer, sizeof buffer) > 0) {
    }
}

}  // namespace pagoda::chat
