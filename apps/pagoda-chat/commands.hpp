// The slash commands of the chat: /help, /reset, /stats, /system TEXT,
// /save FILE, /exit. A line that starts with "//" is a message starting
// with "/", not a command.
#pragma once

#include <string_view>

#include "session.hpp"

namespace pagoda::chat {

enum class CommandResult { handled, exit };

// True when `line` is a command (starts with one "/").
[[nodiscard]] bool is_command(std::string_view line);

// Runs a command; problems (an unknown command, a file that cannot be
// written) are reported and the chat goes on.
CommandResult run_command(ChatSession& session, const Terminal& terminal, std::string_view line);

void print_help(const Terminal& terminal);

}  // namespace pagoda::chat
