// The flags that load and run a model, defined once for pagoda-chat and
// pagoda-generate: the same names (llama.cpp's where they mean the same: -m,
// -c, -n, --temp, ...), the same ranges, the same checks. A bad value is a
// boost::program_options::error naming the flag and its allowed range, so an
// app prints one line and exits with status 2. Each app adds its own flags to
// the groups (pagoda-generate's --raw, pagoda-chat's --context-full).
#pragma once

#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "pagoda/pagoda.hpp"

namespace pagoda::apps {

// What differs between the apps is only where they start: the one-shot tool is
// greedy and short, the chat samples and answers at length.
struct RunDefaults {
  int n_predict = 512;
  float temperature = 0.8f;
  std::optional<std::string> prompt;  // -p when not given (nullopt: none)
};

struct RunOptions {
  std::string model;
  bool model_is_default = true;       // not named by -m: $PAGODA_MODEL_PATH or the fetched default
  std::string system;                 // empty: the chat template's own default
  std::optional<std::string> prompt;  // -p (never empty)
  int n_predict = 512;                // per answer; -1: until the context is full
  pagoda::LoadOptions load;           // mapping, cpu, chat template, engine (context, batch, sampling, threads)
};

// The default model: $PAGODA_MODEL_PATH, else the one scripts/fetch-model.sh fetches.
[[nodiscard]] std::string default_model_path();

// The load flags every app takes (--mapping, --hugepage-size,
// --chat-template) checked before any engine is chosen: throws
// boost::program_options::error naming the flag and the choices.
void check_load_choices(const pagoda::LoadOptions& load);

// --decode's value (auto, graph, persistent); throws boost::program_options::error naming the choices.
[[nodiscard]] runtime::DecodePath parse_decode_flag(const std::string& value);

// Throws pagoda::Error when the default model (no -m) is missing, saying how to get it.
void require_default_model(const RunOptions& options);

// The groups are bound to this object's fields: it stays where it was made.
class RunFlags {
public:
  explicit RunFlags(const RunDefaults& defaults);
  RunFlags(const RunFlags&) = delete;
  RunFlags& operator=(const RunFlags&) = delete;

  [[nodiscard]] boost::program_options::options_description& placement() { return placement_; }
  [[nodiscard]] boost::program_options::options_description& sampling() { return sampling_; }
  [[nodiscard]] boost::program_options::options_description& prompt() { return prompt_; }

  // After po::notify: checks every value and returns the options.
  [[nodiscard]] RunOptions finish(const boost::program_options::variables_map& vm);

private:
  RunOptions options_;
  int ctx_size_ = 4096;
  int batch_size_ = 512;
  int threads_ = 0;
  std::string seed_;
  std::string decode_ = "auto";
  boost::program_options::options_description placement_, sampling_, prompt_;
};

}  // namespace pagoda::apps
