// pagoda-generate: one-shot generation, for scripts. Its flags are
// pagoda-chat's (apps/common/run_options.hpp) plus --raw. Renders the prompt
// through the model's chat template, runs it on CUDA under the chosen mapping policy (or on the CPU reference
// path with --cpu, or where no GPU exists — said, not silent), streams the
// answer and prints a stats line.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "common/help.hpp"
#include "common/run_options.hpp"
#include "pagoda/core/error.hpp"
#include "pagoda/core/escape.hpp"
#include "pagoda/pagoda.hpp"

namespace po = boost::program_options;

namespace {

// The shared run flags (apps/common/run_options.hpp) and --raw.
struct GenerateOptions : pagoda::apps::RunOptions {
  bool raw = false;
};

// Parses the command line; returns nullopt after --help/--version.
std::optional<GenerateOptions> parse_options(int argc, char** argv) {
  pagoda::apps::RunFlags run(
      {.n_predict = 128, .temperature = 0.0f, .prompt = "What is the capital of France? Answer in one sentence."});
  bool raw = false;
  run.prompt().add_options()("raw", po::bool_switch(&raw), "feed the prompt as is, without the chat template");
  auto output_flags = pagoda::apps::flag_group("Output");
  output_flags.add_options()("help,h", "show this help")("version", "show the version");
  auto flags = pagoda::apps::flag_group("");
  flags.add(run.placement()).add(run.sampling()).add(run.prompt()).add(output_flags);

  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(flags).run(), vm);
  if (vm.count("help")) {
    pagoda::apps::print_help(std::cout,
                             {.app = "pagoda-generate",
                              .summary = "one-shot generation on CUDA or the CPU reference path",
                              .usages = {"[-m MODEL] [-p MESSAGE] [flags]      the answer on stdout, the rest on stderr"},
                              .notes = "Greedy unless --temp is above 0. See docs/chat.md for the flags it shares "
                                       "with pagoda-chat."},
                             flags);
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << "pagoda-generate " << PAGODA_VERSION << '\n';
    return std::nullopt;
  }
  po::notify(vm);
  GenerateOptions o;
  static_cast<pagoda::apps::RunOptions&>(o) = run.finish(vm);
  o.raw = raw;
  pagoda::apps::require_default_model(o);
  return o;
}

int run(const GenerateOptions& o) {
  auto model = pagoda::load(o.model, o.load);
  std::fprintf(stderr, "pagoda: %s (%s), %u layers\n", pagoda::escaped(model.config().name).c_str(),
               std::string(model.config().architecture.name).c_str(), model.config().n_layers);
  for (const auto& line : model.load_report()) std::fprintf(stderr, "pagoda: %s\n", line.c_str());

  std::vector<pagoda::text::ChatMessage> messages;
  if (!o.system.empty()) messages.push_back({"system", o.system});
  messages.push_back({"user", *o.prompt});
  const auto prompt = o.raw ? model.tokenizer().encode(*o.prompt, /*add_special=*/true, /*parse_special=*/false)
                            : model.chat_prompt(messages);
  const std::size_t context = model.engine().context_size();
  if (prompt.size() >= context)
    throw pagoda::Error(
        fmt::format("the prompt is {} tokens, which does not fit the context of {} (--ctx-size)", prompt.size(), context));

  // -n -1: until the context is full.
  const std::size_t max_tokens = o.n_predict < 0 ? context : static_cast<std::size_t>(o.n_predict);
  const auto stats = model.generate(prompt, max_tokens, [](std::string_view text) {
    std::cout << text << std::flush;
    return true;
  });
  std::cout << std::endl;  // before the stats line on stderr
  if (stats.context_full) std::fprintf(stderr, "pagoda: stopped: the context of %zu tokens is full\n", context);
  const auto rate = [](std::size_t n, double seconds) { return seconds > 0 ? double(n) / seconds : 0.0; };
  std::fprintf(stderr, "pagoda: prompt %zu tokens at %.1f t/s; generated %zu tokens at %.1f t/s (%s)\n",
               stats.prompt_tokens, rate(stats.prompt_tokens, stats.prompt_seconds), stats.generated_tokens,
               rate(stats.generated_tokens, stats.generate_seconds),
               model.engine().on_gpu() ? "CUDA" : "CPU reference");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto options = parse_options(argc, argv);
    return options ? run(*options) : 0;
  } catch (const po::error& e) {
    std::fprintf(stderr, "pagoda-generate: %s (see --help)\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pagoda-generate: %s\n", e.what());
    return 1;
  }
}
