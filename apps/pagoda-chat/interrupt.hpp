// Ctrl-C in the chat: SIGINT sets a flag instead of ending the process. The
// generate callback polls the flag (an answer stops at its next token); the
// line readers wait on the terminal and on wake_fd() together, because the
// kernel may hand the signal to any thread (the CPU engine's workers
// included), so a blocked read() in the main thread is not reliably
// interrupted: the handler writes a byte to a self-pipe instead. SIGWINCH
// (terminal resized, for the line editor) is noted the same way.
#pragma once

namespace pagoda::chat {

class InterruptHandler {
public:
  // Installs the SIGINT and SIGWINCH handlers; the destructor restores the old ones.
  InterruptHandler();
  ~InterruptHandler();
  InterruptHandler(const InterruptHandler&) = delete;
  InterruptHandler& operator=(const InterruptHandler&) = delete;

  // True once per Ctrl-C: reading clears it.
  [[nodiscard]] static bool take();
  // True while a Ctrl-C waits to be taken.
  [[nodiscard]] static bool pending();
  // Records a Ctrl-C that arrived as a character (a terminal without ISIG).
  static void raise();
  // Forgets a Ctrl-C that arrived when nothing was listening.
  static void clear();
  // True once per terminal resize.
  [[nodiscard]] static bool take_resize();
  // Readable after a signal arrived (-1 when no handler is installed);
  // drain_wake() empties it before the flags are read.
  [[nodiscard]] static int wake_fd();
  static void drain_wake();
};

}  // namespace pagoda::chat
