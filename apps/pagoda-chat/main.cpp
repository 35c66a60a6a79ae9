// pagoda-chat: the bundled chat app. Interactive (libedit on a terminal,
// plain lines from a pipe) or one-shot (-p). See docs/chat.md.
//
//   options.*      the command line          loading.*     load with progress
//   session.*      one turn, context-full    repl.*        the loop, one-shot
//   commands.*     /help /reset /stats ...   conversation.*, transcript.*
//   line_reader.*  libedit or plain lines    interrupt.*   Ctrl-C
//   terminal.*     status lines, colour, stats line, spinner
#include <cstdio>

#include <boost/program_options.hpp>

#include "interrupt.hpp"
#include "line_reader.hpp"
#include "loading.hpp"
#include "repl.hpp"

int main(int argc, char** argv) {
  namespace chat = pagoda::chat;
  try {
    const auto options = chat::parse_options(argc, argv);
    if (!options) return 0;
    const chat::Terminal terminal(options->color);
    auto model = chat::load_model(*options, terminal);
    const chat::InterruptHandler interrupts;
    chat::ChatSession session(model, *options, terminal);
    if (options->prompt) return chat::run_one_shot(session, *options->prompt);
    const auto reader = chat::make_line_reader("pagoda-chat", options->color);
    return chat::run_repl(session, *reader, terminal);
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "pagoda-chat: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagoda-chat: %s\n", e.what());
    return 1;
  }
}
