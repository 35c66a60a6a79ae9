#include "options.hpp"

#include <cstdlib>
#include <iostream>
#include <random>

#include <boost/program_options.hpp>
#include <fmt/core.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/text/chat_template.hpp"

namespace po = boost::program_options;

namespace pagoda::chat {

namespace {

// Raw values as typed, checked after parsing (so the messages name the flag).
struct RawFlags {
  int ctx_size = 4096;
  int batch_size = 512;
  int threads = 0;
  std::string seed = std::to_string(runtime::default_sampling_seed);
  std::string context_full = "stop";
  bool no_color = false;
};

// Written so that NaN is out of range too.
template <class T>
void require_range(T value, T low, T high, const char* flag, std::string_view note = {}) {
  if (!(value >= low && value <= high))
    throw po::error(fmt::format("{} must be between {} and {}{} (got {})", flag, low, high, note, value));
}

std::uint64_t parse_seed(const std::string& text) {
  if (text == "-1" || text == "random") return std::random_device{}() * 0x9E3779B97F4A7C15ull + std::random_device{}();
  std::size_t used = 0;
  try {
    if (!text.empty() && text.front() != '-') {
      const auto seed = std::stoull(text, &used);
      if (used == text.size()) return seed;
    }
  } catch (const std::exception&) {
  }
  throw po::error(fmt::format("--seed must be between 0 and 18446744073709551615, or -1 for a random seed (got {})",
                              text));
}

ContextFull parse_context_full(const std::string& text) {
  if (text == "stop") return ContextFull::stop;
  if (text == "drop-oldest") return ContextFull::drop_oldest;
  throw po::error(fmt::format("--context-full must be stop or drop-oldest (got {})", text));
}

void check_chat_template(const std::string& name) {
  if (name.empty()) return;
  std::string known;
  for (const auto known_name : text::ChatTemplate::names()) {
    if (known_name == name) return;
    known += known.empty() ? "" : ", ";
    known += known_name;
  }
  throw po::error(fmt::format("--chat-template must be one of {} (got {})", known, name));
}

void check_hugepage_size(const std::string& size) {
  try {
    (void)mapping::parse_hugepage_size(size);
  } catch (const pagoda::Error& e) {
    throw po::error(fmt::format("--hugepage-size: {}", e.what()));
  }
}

void check_mapping(const std::string& name) {
  try {
    (void)mapping::parse_policy_choice(name);
  } catch (const pagoda::Error& e) {
    throw po::error(fmt::format("--mapping: {}", e.what()));
  }
}

}  // namespace

std::string default_model_path() {
  if (const char* path = std::getenv("PAGODA_MODEL_PATH"); path && *path) return path;
  const char* home = std::getenv("HOME");
  return fmt::format("{}/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
}

const char* name_of(ContextFull mode) { return mode == ContextFull::stop ? "stop" : "drop-oldest"; }

std::optional<ChatOptions> parse_options(int argc, char** argv) {
  ChatOptions o;
  RawFlags raw;
  auto& engine = o.load.engine;
  auto& sampling = engine.sampling;

  constexpr unsigned line_length = 110, description_length = 60;
  po::options_description model_flags("Model and placement", line_length, description_length);
  model_flags.add_options()
      ("model,m", po::value(&o.model)->default_value(default_model_path()), "GGUF model file ($PAGODA_MODEL_PATH)")
      ("mapping", po::value(&o.load.mapping)->default_value("auto"),
       "where the weights live: auto, device-copy, host-registered, hmm-direct, hugepage-import")
      ("allow-fallback", po::bool_switch(&o.load.allow_fallback),
       "let a forced --mapping fall back (reported) if it cannot apply")
      ("hugepage-size", po::value(&o.load.hugepage_size)->default_value("auto"),
       "hugepage-import's pages: auto, 1g, 2m or none")
      ("no-fallback", po::bool_switch(&o.load.no_fallback),
       "a policy's own fallback (e.g. no hugetlb pages -> THP) is an error, not a reported substitute")
      ("cpu", po::bool_switch(&o.load.cpu), "run on the CPU reference path even if a GPU exists")
      ("threads,t", po::value(&raw.threads)->default_value(raw.threads), "CPU threads (0..1024; 0: all)")
      ("ctx-size,c", po::value(&raw.ctx_size)->default_value(raw.ctx_size),
       "context size in tokens (16..1048576; 0: the model's, at most 4096)")
      ("batch-size,b", po::value(&raw.batch_size)->default_value(raw.batch_size),
       "prompt tokens per forward pass (1..4096)");

  po::options_description sampling_flags("Sampling (llama.cpp's order: penalties, top-k, top-p, min-p, temperature)",
                                         line_length, description_length);
  sampling_flags.add_options()
      ("n-predict,n", po::value(&o.n_predict)->default_value(o.n_predict),
       "tokens per answer at most (1..1048576; --n-predict=-1: until the context is full)")
      ("temp", po::value(&sampling.temperature)->default_value(0.8f, "0.8"), "temperature (0..10; 0: greedy)")
      ("top-k", po::value(&sampling.top_k)->default_value(sampling.top_k), "top-k (0..1000000; 0: off)")
      ("top-p", po::value(&sampling.top_p)->default_value(sampling.top_p, "0.95"), "top-p (0..1; 1: off)")
      ("min-p", po::value(&sampling.min_p)->default_value(sampling.min_p, "0.05"), "min-p (0..1; 0: off)")
      ("repeat-penalty", po::value(&sampling.repeat_penalty)->default_value(1.0f, "1.0"),
       "repeat penalty (above 0, up to 100; 1: off)")
      ("repeat-last-n", po::value(&sampling.penalty_last_n)->default_value(sampling.penalty_last_n),
       "tokens the penalties look back at (0..4096)")
      ("presence-penalty", po::value(&sampling.presence_penalty)->default_value(0.0f, "0"),
       "presence penalty (-2..2; 0: off)")
      ("frequency-penalty", po::value(&sampling.frequency_penalty)->default_value(0.0f, "0"),
       "frequency penalty (-2..2; 0: off)")
      ("seed", po::value(&raw.seed)->default_value(raw.seed), "sampling seed (--seed=-1: random)");

  po::options_description chat_flags("Chat", line_length, description_length);
  chat_flags.add_options()
      ("system,s", po::value(&o.system), "system prompt (default: the chat template's own)")
      ("prompt,p", po::value<std::string>(), "one-shot: answer this message on stdout and exit")
      ("chat-template", po::value(&o.load.chat_template),
       "override the file's template: chatml, llama3, llama3.1 or gemma")
      ("context-full", po::value(&raw.context_full)->default_value(raw.context_full),
       "when the conversation fills the context: stop (refuse, suggest /reset) or drop-oldest (forget the "
       "oldest exchanges)");

  po::options_description output_flags("Output", line_length, description_length);
  output_flags.add_options()
      ("no-color", po::bool_switch(&raw.no_color), "no colours (also: $NO_COLOR, or output not a terminal)")
      ("verbose", po::bool_switch(&o.verbose), "load report, rendered prompts and per-token timing")
      ("help,h", "show this help")
      ("version", "show the version");

  po::options_description flags(line_length, description_length);
  flags.add(model_flags).add(sampling_flags).add(chat_flags).add(output_flags);

  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(flags).run(), vm);
  if (vm.count("help")) {
    std::cout << "pagoda-chat: chat with a GGUF model on CUDA or the CPU reference path\n\n"
                 "Usage: pagoda-chat [-m MODEL] [flags]      interactive (stdin not a terminal: one message a line)\n"
                 "       pagoda-chat -p MESSAGE [flags]      one answer on stdout, then exit\n"
              << flags << "\nIn the chat, /help lists the commands. See docs/chat.md.\n";
    return std::nullopt;
  }
  if (vm.count("version")) {
    std::cout << "pagoda-chat " << PAGODA_VERSION << " (line editing: "
              << (PAGODA_CHAT_LIBEDIT ? "libedit" : "none, built without libedit") << ")\n";
    return std::nullopt;
  }
  po::notify(vm);
  if (vm.count("prompt")) o.prompt = vm["prompt"].as<std::string>();

  if (raw.ctx_size != 0) require_range(raw.ctx_size, 16, 1 << 20, "--ctx-size", " (or 0: the model's)");
  require_range(raw.batch_size, 1, 4096, "--batch-size");
  require_range(raw.threads, 0, 1024, "--threads");
  if (o.n_predict != -1) require_range(o.n_predict, 1, 1 << 20, "--n-predict", " (or -1: until the context is full)");
  require_range(sampling.temperature, 0.0f, 10.0f, "--temp");
  require_range(sampling.top_k, 0, 1000000, "--top-k");
  require_range(sampling.top_p, 0.0f, 1.0f, "--top-p");
  require_range(sampling.min_p, 0.0f, 1.0f, "--min-p");
  if (!(sampling.repeat_penalty > 0.0f && sampling.repeat_penalty <= 100.0f))
    throw po::error(
        fmt::format("--repeat-penalty must be above 0 and at most 100 (got {})", sampling.repeat_penalty));
  require_range(sampling.penalty_last_n, 0, runtime::max_penalty_last_n, "--repeat-last-n");
  require_range(sampling.presence_penalty, -2.0f, 2.0f, "--presence-penalty");
  require_range(sampling.frequency_penalty, -2.0f, 2.0f, "--frequency-penalty");
  sampling.seed = parse_seed(raw.seed);
  o.context_full = parse_context_full(raw.context_full);
  check_chat_template(o.load.chat_template);
  check_mapping(o.load.mapping);
  check_hugepage_size(o.load.hugepage_size);
  if (o.prompt && o.prompt->empty()) throw po::error("--prompt must not be empty");

  engine.context_size = static_cast<std::uint32_t>(raw.ctx_size);
  engine.max_batch = static_cast<std::uint32_t>(raw.batch_size);
  engine.cpu_threads = static_cast<unsigned>(raw.threads);
  const char* no_color_env = std::getenv("NO_COLOR");
  o.color = !raw.no_color && !(no_color_env && *no_color_env);
  return o;
}

}  // namespace pagoda::chat
