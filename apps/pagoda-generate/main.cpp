// pagoda-generate: one-shot generation — the README's main job until
// pagoda-chat exists. Renders the prompt through the model's chat template,
// runs it on CUDA under the chosen mapping policy (or on the CPU reference
// path with --cpu, or where no GPU exists — said, not silent), streams the
// answer and prints a stats line.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/pagoda.hpp"

namespace po = boost::program_options;

namespace {

struct GenerateOptions {
  std::string model;
  std::string prompt;
  std::string system;
  bool raw = false;
  int n_predict = 128;
  int ctx_size = 2048;
  int threads = 0;
  pagoda::LoadOptions load;
  float temperature = 0.0f;
  std::uint64_t seed = pagoda::runtime::default_sampling_seed;
};
std::string default_model_path() {
  if (const char* path = std::getenv("PAGODA_MODEL_PATH")) return path;
  const char* home = std::getenv("HOME");
  return fmt::format("{}/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
}

// Parses the command line; returns nullopt after --help/--version.
std::optional<GenerateOptions> parse_options(int argc, char** argv) {
  GenerateOptions o;
  po::options_description flags("pagoda-generate: one-shot generation on CUDA or the CPU reference path");
  flags.add_options()
      ("help,h", "show this help")
      ("version", "show the version")
      ("model,m", po::value(&o.model)->default_value(default_model_path()), "GGUF model file")
      ("prompt,p", po::value(&o.prompt)->default_value("What is the capital of France? Answer in one sentence."),
       "the user's message")
      ("system,s", po::value(&o.system), "system prompt (default: the chat template's own)")
      ("chat-template", po::value(&o.load.chat_template), "override the template: chatml, llama3, llama3.1 or gemma")
      ("raw", po::bool_switch(&o.raw), "feed the prompt as is, without the chat template")
      ("n-predict,n", po::value(&o.n_predict)->default_value(128), "tokens to generate at most (1..65536)")
      ("ctx-size,c", po::value(&o.ctx_size)->default_value(2048), "context size in tokens (16..1048576)")
      ("mapping", po::value(&o.load.mapping)->default_value("auto"),
       "where the weights live: auto, device-copy, host-registered, hmm-direct, hugepage-import")
      ("allow-fallback", po::bool_switch(&o.load.allow_fallback),
       "let a forced --mapping fall back (reported) if it cannot apply")
      ("hugepage-size", po::value(&o.load.hugepage_size)->default_value("auto"),
       "hugepage-import's pages: auto, 1g, 2m or none")
      ("no-fallback", po::bool_switch(&o.load.no_fallback),
       "a policy's own fallback (e.g. no hugetlb pages -> THP) is an error, not a reported substitute")
      ("cpu", po::bool_switch(&o.load.cpu), "run on the CPU reference forward pass")
      ("threads,t", po::value(&o.threads)->default_value(0), "CPU threads for --cpu (0: all hardware threads)")
      ("temp", po::value(&o.temperature)->default_value(0.0f), "sampling temperature (0: greedy; 0..10)")
      ("seed", po::value(&o.seed)->default_value(o.seed), "sampling seed");
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(flags).run(), vm);
  if (vm.count("help")) {
    std::cout << flags << '\n';
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << "pagoda-generate " << PAGODA_VERSION << '\n';
    return std::nullopt;
  }
  po::notify(vm);
  const auto in_range = [](auto value, auto low, auto high, const char* flag) {
    if (value < low || value > high)
      throw po::error(fmt::format("{} must be between {} and {} (got {})", flag, low, high, value));
  };
  in_range(o.n_predict, 1, 65536, "--n-predict");
  in_range(o.ctx_size, 16, 1 << 20, "--ctx-size");
  in_range(o.threads, 0, 1024, "--threads");
  in_range(o.temperature, 0.0f, 10.0f, "--temp");
  try {
    (void)pagoda::mapping::parse_hugepage_size(o.load.hugepage_size);
  } catch (const pagoda::Error& e) {
    throw po::error(fmt::format("--hugepage-size: {}", e.what()));
  }
  return o;
}

int run(GenerateOptions o) {
  o.load.engine.context_size = static_cast<std::uint32_t>(o.ctx_size);
  o.load.engine.cpu_threads = static_cast<unsigned>(o.threads);
  o.load.engine.sampling.temperature = o.temperature;
  o.load.engine.sampling.seed = o.seed;
  auto model = pagoda::load(o.model, o.load);
  std::fprintf(stderr, "pagoda: %s (%s), %u layers\n", model.config().name.c_str(),
               std::string(model.config().architecture.name).c_str(), model.config().n_layers);
  for (const auto& line : model.load_report()) std::fprintf(stderr, "pagoda: %s\n", line.c_str());

  std::vector<pagoda::text::ChatMessage> messages;
  if (!o.system.empty()) messages.push_back({"system", o.system});
  messages.push_back({"user", o.prompt});
  const auto prompt = o.raw ? model.tokenizer().encode(o.prompt, /*add_special=*/true, /*parse_special=*/false)
                            : model.chat_prompt(messages);
  if (prompt.size() >= static_cast<std::size_t>(o.ctx_size))
    throw pagoda::Error(fmt::format("the prompt is {} tokens, which does not fit the context of {} (--ctx-size)",
                                    prompt.size(), o.ctx_size));

  const auto stats = model.generate(prompt, static_cast<std::size_t>(o.n_predict), [](std::string_view text) {
    std::cout << text << std::flush;
    return true;
  });
  std::cout << std::endl;  // before the stats line on stderr
  if (stats.context_full) std::fprintf(stderr, "pagoda: stopped: the context of %d tokens is full\n", o.ctx_size);
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
