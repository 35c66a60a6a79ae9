// pagoda's public API for programs that run a model:
//
//   auto model = pagoda::load("model.gguf", {.mapping = "auto"});
//   std::fputs(model.placement().c_str(), stderr);
//   auto prompt = model.chat_prompt({{"user", "Hello!"}});
//   model.generate(prompt, 128, [](std::string_view text) { std::cout << text; return true; });
//
// load() parses and checks the file, probes the machine, chooses the mapping
// policy (or takes the user's; a choice that cannot apply is an error unless
// fallback is allowed, and then it is reported), and builds the engine. For a
// policy fixed at compile time, use runtime::Engine<mapping::P> directly.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/runtime/any_engine.hpp"
#include "pagoda/text/chat_template.hpp"
#include "pagoda/text/tokenizer.hpp"

namespace pagoda {

struct LoadOptions {
  std::string mapping = "auto";      // auto, device-copy, host-registered, hmm-direct, hugepage-import
  bool allow_fallback = false;       // a forced mapping that cannot apply: error (false) or reported fallback
  std::string hugepage_size = "auto";  // hugepage-import's pages: auto, 1g, 2m, none
  bool no_fallback = false;          // a policy's own fallbacks (hugetlb pages -> THP) become errors
  bool cpu = false;                  // run on the CPU reference path
  std::string chat_template;         // override the file's: chatml, llama3, llama3.1, gemma
  runtime::EngineOptions engine{};
};

struct GenerationStats {
  std::size_t prompt_tokens = 0;     // tokens prefilled (the new part of the conversation)
  double prompt_seconds = 0;
  std::size_t generated_tokens = 0;
  double generate_seconds = 0;
  bool ended = false;                // the model produced an end-of-generation token
  bool context_full = false;
  bool stopped = false;              // the callback asked to stop
};

// Receives complete UTF-8 text as it is generated; return false to stop.
using TextCallback = std::function<bool(std::string_view text)>;

class Model {
public:
  [[nodiscard]] const gguf::File& gguf() const { return file_->gguf(); }
  [[nodiscard]] const model::ModelConfig& config() const { return config_; }
  [[nodiscard]] const text::Tokenizer& tokenizer() const { return tokenizer_; }
  // Throws (naming the cause) when the file has no recognisable template and none was given.
  [[nodiscard]] const text::ChatTemplate& chat_template() const;
  [[nodiscard]] runtime::AnyEngine& engine() { return *engine_; }
  [[nodiscard]] const runtime::AnyEngine& engine() const { return *engine_; }
  // What load decided and why: the policy selection's reasons and the placement.
  [[nodiscard]] const std::vector<std::string>& load_report() const { return load_report_; }
  [[nodiscard]] std::string placement() const { return engine_->placement_line(); }
  // The same as a value (bytes in VRAM, pinned, fallbacks, timings) when a
  // CUDA engine runs; none on the CPU reference path.
  [[nodiscard]] std::optional<mapping::PlacementReport> placement_report() const {
    return engine_->placement_report();
  }

  // The conversation rendered through the chat template and tokenized.
  [[nodiscard]] std::vector<std::int32_t> chat_prompt(std::span<const text::ChatMessage> messages,
                                                      bool add_generation_prompt = true) const;

  // Runs `prompt` — a whole conversation: what the cache already holds of it
  // is reused, only the rest is prefilled — then generates up to max_tokens.
  GenerationStats generate(std::span<const std::int32_t> prompt, std::size_t max_tokens, const TextCallback& on_text);

  // Tokens in the cache (prompt and generated, in order).
  [[nodiscard]] const std::vector<std::int32_t>& cached_tokens() const { return cached_; }
  // Forgets everything (a new conversation).
  void reset();

private:
  friend Model load(const std::filesystem::path& path, const LoadOptions& options);
  Model(std::unique_ptr<gguf::MappedFile> file, const LoadOptions& options);

  std::unique_ptr<gguf::MappedFile> file_;
  model::ModelConfig config_;
  text::Tokenizer tokenizer_;
  std::optional<text::ChatTemplate> chat_template_;
  std::string chat_template_problem_;
  std::vector<std::string> load_report_;
  std::unique_ptr<runtime::AnyEngine> engine_;
  std::vector<std::int32_t> cached_;
};

// Opens, checks and loads a model; throws pagoda::Error with the cause.
[[nodiscard]] Model load(const std::filesystem::path& path, const LoadOptions& options = {});

}  // namespace pagoda
