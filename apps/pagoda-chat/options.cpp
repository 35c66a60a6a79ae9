#include "options.hpp"

#include <cstdlib>
#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "common/help.hpp"

namespace po = boost::program_options;

namespace pagoda::chat {

namespace {

ContextFull parse_context_full(const std::string& text) {
  if (text == "stop") return ContextFull::stop;
  if (text == "drop-oldest") return ContextFull::drop_oldest;
  throw po::error(fmt::format("--context-full must be stop or drop-oldest (got {})", text));
}

}  // namespace

const char* name_of(ContextFull mode) { return mode == ContextFull::stop ? "stop" : "drop-oldest"; }

std::optional<ChatOptions> parse_options(int argc, char** argv) {
  apps::RunFlags run({.n_predict = 512, .temperature = 0.8f, .prompt = std::nullopt});
  std::string context_full = "stop";
  bool no_color = false, verbose = false;
  run.prompt().add_options()
      ("context-full", po::value(&context_full)->default_value(context_full),
       "when the conversation fills the context: stop (refuse, suggest /reset) or drop-oldest (forget the "
       "oldest exchanges)");
  auto output_flags = apps::flag_group("Output");
  output_flags.add_options()
      ("no-color", po::bool_switch(&no_color), "no colours (also: $NO_COLOR, or output not a terminal)")
      ("verbose", po::bool_switch(&verbose), "load report, rendered prompts and per-token timing")
      ("help,h", "show this help")
      ("version", "show the version");
  auto flags = apps::flag_group("");
  flags.add(run.placement()).add(run.sampling()).add(run.prompt()).add(output_flags);

  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(flags).run(), vm);
  if (vm.count("help")) {
    apps::print_help(std::cout,
                     {.app = "pagoda-chat",
                      .summary = "chat with a GGUF model on CUDA or the CPU reference path",
                      .usages = {"[-m MODEL] [flags]      interactive (stdin not a terminal: one message a line)",
                                 "-p MESSAGE [flags]      one answer on stdout, then exit"},
                      .notes = "In the chat, /help lists the commands. See docs/chat.md."},
                     flags);
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << "pagoda-chat " << PAGODA_VERSION << " (line editing: "
              << (PAGODA_CHAT_LIBEDIT ? "libedit" : "none, built without libedit") << ")\n";
    return std::nullopt;
  }
  po::notify(vm);

  ChatOptions o;
  static_cast<apps::RunOptions&>(o) = run.finish(vm);
  o.context_full = parse_context_full(context_full);
  o.verbose = verbose;
  const char* no_color_env = std::getenv("NO_COLOR");
  o.color = !no_color && !(no_color_env && *no_color_env);
  apps::require_default_model(o);
  return o;
}

}  // namespace pagoda::chat
