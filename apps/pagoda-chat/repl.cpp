#include "repl.hpp"

#include <exception>

#include <fmt/core.h>

#include "commands.hpp"

namespace pagoda::chat {

namespace {

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

int run_repl(ChatSession& session, LineReader& reader, const Terminal& terminal) {
  if (reader.interactive())
    terminal.notice("Type a message and press Enter. /help lists the commands; Ctrl-C stops an answer; /exit or "
                    "Ctrl-D quits.");
  bool interrupted_at_prompt = false;
  for (;;) {
    auto input = reader.read();
    if (input.kind == ReadResult::Kind::end_of_input) {
      if (reader.interactive()) terminal.answer_end();  // leave the shell's prompt on a line of its own
      return 0;
    }
    if (input.kind == ReadResult::Kind::interrupted) {
      if (reader.interactive()) terminal.answer_end();
      if (interrupted_at_prompt) return 0;
      interrupted_at_prompt = true;
      terminal.notice("(Ctrl-C again to quit, or /exit)");
      continue;
    }
    interrupted_at_prompt = false;
    std::string& line = input.text;
    if (blank(line)) continue;
    if (is_command(line)) {
      if (run_command(session, terminal, line) == CommandResult::exit) return 0;
      continue;
    }
    if (line.starts_with("//")) line.erase(0, 1);
    try {
      (void)session.ask(std::move(line));
    } catch (const std::exception& e) {  // a failed turn is reported; the session goes on
      terminal.warning(fmt::format("error: {}", e.what()));
    }
  }
}

int run_one_shot(ChatSession& session, std::string message) {
  switch (session.ask(std::move(message))) {
    case TurnResult::answered: return 0;
    case TurnResult::refused: return 1;
    case TurnResult::interrupted: return 130;
  }
  return 1;
}

}  // namespace pagoda::chat
