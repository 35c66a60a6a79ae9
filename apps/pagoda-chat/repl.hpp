// The two ways pagoda-chat runs a session: the read-answer loop (a terminal
// with libedit, or lines piped in), and one-shot (-p: one answer on stdout).
#pragma once

#include <string>

#include "line_reader.hpp"
#include "session.hpp"

namespace pagoda::chat {

// Returns the exit status: 0 after /exit, the end of input or a second
// Ctrl-C at the prompt.
int run_repl(ChatSession& session, LineReader& reader, const Terminal& terminal);

// 0 when answered, 1 when the message did not fit the context, 130 when
// Ctrl-C stopped the answer.
int run_one_shot(ChatSession& session, std::string message);

}  // namespace pagoda::chat
