#include "common/run_options.hpp"

#include <cstdlib>
#include <filesystem>
#include <random>

#include <fmt/core.h>

#include "common/help.hpp"
#include "pagoda/core/error.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/text/chat_template.hpp"

namespace po = boost::program_options;

namespace pagoda::apps {

namespace {

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

// A library parser's error, as a usage error naming the flag.
template <class Parse>
void check_with(const char* flag, Parse parse) {
  try {
    (void)parse();
  } catch (const pagoda::Error& e) {
    throw po::error(fmt::format("{}: {}", flag, e.what()));
  }
}

}  // namespace

std::string default_model_path() {
  if (const char* path = std::getenv("PAGODA_MODEL_PATH"); path && *path) return path;
  const char* home = std::getenv("HOME");
  return fmt::format("{}/.cache/pagoda/models/SmolLM2-135M-Instruct.Q4_1.gguf", home ? home : ".");
}

void require_default_model(const RunOptions& options) {
  if (!options.model_is_default) return;
  std::error_code error;
  if (std::filesystem::exists(options.model, error)) return;
  throw Error(fmt::format("{}: no model there (the default{}); fetch it with scripts/fetch-model.sh (or set up "
                          "everything with scripts/bootstrap.sh run), or name a GGUF file with -m",
                          options.model, std::getenv("PAGODA_MODEL_PATH") ? ", from $PAGODA_MODEL_PATH" : ""));
}

RunFlags::RunFlags(const RunDefaults& defaults)
    : seed_(std::to_string(runtime::default_sampling_seed)),
      placement_(flag_group("Model and placement")),
      sampling_(flag_group("Sampling (llama.cpp's order: penalties, top-k, top-p, min-p, temperature)")),
      prompt_(flag_group("Prompt")) {
  auto& o = options_;
  auto& sampling = o.load.engine.sampling;
  o.n_predict = defaults.n_predict;
  sampling.temperature = defaults.temperature;

  placement_.add_options()
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
      ("decode", po::value(&decode_)->default_value(decode_),
       "CUDA one-token step: auto, graph (its kernels as one CUDA graph) or persistent (one launch; an error "
       "with the reason where the model cannot take it)")
      ("threads,t", po::value(&threads_)->default_value(threads_), "CPU threads (0..1024; 0: all)")
      ("ctx-size,c", po::value(&ctx_size_)->default_value(ctx_size_),
       "context size in tokens (16..1048576; 0: the model's, at most 4096)")
      ("batch-size,b", po::value(&batch_size_)->default_value(batch_size_),
       "prompt tokens per forward pass (1..4096)");

  const auto decimal = [](float value) { return fmt::format("{}", value); };
  sampling_.add_options()
      ("n-predict,n", po::value(&o.n_predict)->default_value(o.n_predict),
       "tokens per answer at most (1..1048576; --n-predict=-1: until the context is full)")
      ("temp", po::value(&sampling.temperature)->default_value(sampling.temperature, decimal(sampling.temperature)),
       "temperature (0..10; 0: greedy)")
      ("top-k", po::value(&sampling.top_k)->default_value(sampling.top_k), "top-k (0..1000000; 0: off)")
      ("top-p", po::value(&sampling.top_p)->default_value(sampling.top_p, decimal(sampling.top_p)),
       "top-p (0..1; 1: off)")
      ("min-p", po::value(&sampling.min_p)->default_value(sampling.min_p, decimal(sampling.min_p)),
       "min-p (0..1; 0: off)")
      ("repeat-penalty", po::value(&sampling.repeat_penalty)->default_value(1.0f, "1.0"),
       "repeat penalty (above 0, up to 100; 1: off)")
      ("repeat-last-n", po::value(&sampling.penalty_last_n)->default_value(sampling.penalty_last_n),
       "tokens the penalties look back at (0..4096)")
      ("presence-penalty", po::value(&sampling.presence_penalty)->default_value(0.0f, "0"),
       "presence penalty (-2..2; 0: off)")
      ("frequency-penalty", po::value(&sampling.frequency_penalty)->default_value(0.0f, "0"),
       "frequency penalty (-2..2; 0: off)")
      ("seed", po::value(&seed_)->default_value(seed_), "sampling seed (--seed=-1: random)");

  auto prompt_value = po::value<std::string>();
  if (defaults.prompt) prompt_value->default_value(*defaults.prompt);
  prompt_.add_options()
      ("system,s", po::value(&o.system), "system prompt (default: the chat template's own)")
      ("prompt,p", prompt_value, "the user's message (not empty)")
      ("chat-template", po::value(&o.load.chat_template),
       "override the file's template: chatml, llama3, llama3.1 or gemma");
}

RunOptions RunFlags::finish(const po::variables_map& vm) {
  RunOptions o = options_;
  auto& engine = o.load.engine;
  auto& sampling = engine.sampling;
  o.model_is_default = vm["model"].defaulted();
  if (vm.count("prompt")) o.prompt = vm["prompt"].as<std::string>();

  if (ctx_size_ != 0) require_range(ctx_size_, 16, 1 << 20, "--ctx-size", " (or 0: the model's)");
  require_range(batch_size_, 1, 4096, "--batch-size");
  require_range(threads_, 0, 1024, "--threads");
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
  sampling.seed = parse_seed(seed_);
  check_load_choices(o.load);
  if (o.prompt && o.prompt->empty()) throw po::error("--prompt must not be empty");

  engine.context_size = static_cast<std::uint32_t>(ctx_size_);
  engine.max_batch = static_cast<std::uint32_t>(batch_size_);
  engine.cpu_threads = static_cast<unsigned>(threads_);
  engine.decode = parse_decode_flag(decode_);
  return o;
}

runtime::DecodePath parse_decode_flag(const std::string& value) {
  const auto path = runtime::parse_decode_path(value);
  if (!path) throw po::error(fmt::format("--decode must be one of {} (got '{}')", runtime::decode_path_names, value));
  return *path;
}

void check_load_choices(const pagoda::LoadOptions& load) {
  check_chat_template(load.chat_template);
  check_with("--mapping", [&] { return mapping::parse_policy_choice(load.mapping); });
  check_with("--hugepage-size", [&] { return mapping::parse_hugepage_size(load.hugepage_size); });
}

}  // namespace pagoda::apps
