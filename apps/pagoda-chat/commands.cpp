#include "commands.hpp"

#include <array>
#include <exception>

#include <fmt/core.h>

namespace pagoda::chat {

namespace {

struct CommandHelp {
  std::string_view usage;
  std::string_view what;
};

constexpr std::array<CommandHelp, 7> commands{{
    {"/help", "this list"},
    {"/reset", "start a new conversation (same system prompt; the context is emptied)"},
    {"/stats", "context used, tokens prefilled and generated, last speeds, placement"},
    {"/system TEXT", "start a new conversation with this system prompt (/system alone shows it)"},
    {"/save FILE", "write the transcript (Markdown if FILE ends in .md, plain text otherwise)"},
    {"/exit", "quit (also /quit, Ctrl-D, or Ctrl-C twice at the prompt)"},
    {"//text", "send a message that starts with \"/\""},
}};

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

}  // namespace

bool is_command(std::string_view line) { return line.starts_with('/') && !line.starts_with("//"); }

void print_help(const Terminal& terminal) {
  terminal.notice("commands:");
  for (const auto& command : commands) terminal.notice(fmt::format("  {:<14} {}", command.usage, command.what));
  terminal.notice("Ctrl-C stops an answer; the conversation goes on.");
}

CommandResult run_command(ChatSession& session, const Terminal& terminal, std::string_view line) {
  const auto space = line.find_first_of(" \t");
  const auto name = line.substr(0, space);
  const auto argument = space == std::string_view::npos ? std::string_view{} : trim(line.substr(space));

  if (name == "/exit" || name == "/quit") return CommandResult::exit;
  if (name == "/help" || name == "/?") {
    print_help(terminal);
  } else if (name == "/reset") {
    session.reset();
  } else if (name == "/stats") {
    session.show_stats();
  } else if (name == "/system") {
    if (argument.empty()) {
      const auto& system = session.conversation().system();
      terminal.notice(system.empty()
                          ? std::string("system prompt: (the chat template's default); /system TEXT sets one")
                          : fmt::format("system prompt: {}", system));
    } else {
      session.set_system(std::string(argument));
    }
  } else if (name == "/save") {
    if (argument.empty()) {
      terminal.warning("/save needs a file name: /save chat.md (Markdown) or /save chat.txt (plain text)");
    } else {
      try {
        session.save(std::string(argument));
      } catch (const std::exception& e) {
        terminal.warning(e.what());
      }
    }
  } else {
    terminal.warning(fmt::format("unknown command {}: /help lists the commands (start with // to send a message "
                                 "beginning with /)",
                                 name));
  }
  return CommandResult::handled;
}

}  // namespace pagoda::chat
