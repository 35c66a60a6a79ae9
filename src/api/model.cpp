// pagoda::load and pagoda::Model. Compiled into pagoda_cuda when pagoda is
// built with CUDA (PAGODA_HAS_CUDA: the engine variant holds Engine<P> for
// every policy), into pagoda_host otherwise (CPU reference engine only).
#include "pagoda/pagoda.hpp"

#include <algorithm>
#include <chrono>

#include <fmt/core.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/mapping/policy_id.hpp"
#include "pagoda/model/weights.hpp"
#include "pagoda/text/stream_decoder.hpp"
#include "pagoda/text/vocabulary.hpp"
#if PAGODA_HAS_CUDA
#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/mapping/policy_options.hpp"
#include "pagoda/mapping/selection.hpp"
#endif

namespace pagoda {

namespace runtime {

std::string AnyEngine::placement_line() const {
  return std::visit(
      [](const auto& engine) -> std::string {
        using E = std::decay_t<decltype(*engine)>;
        if constexpr (std::is_same_v<E, cpu::CpuEngine>) return engine->placement_line();
#if PAGODA_HAS_CUDA
        else return mapping::to_string(engine->placement());
#endif
      },
      engine_);
}

}  // namespace runtime

namespace {

using Clock = std::chrono::steady_clock;

std::unique_ptr<runtime::AnyEngine> cpu_engine(const gguf::File& file, const LoadOptions& options) {
  return std::make_unique<runtime::AnyEngine>(std::make_unique<cpu::CpuEngine>(file, options.engine));
}

#if PAGODA_HAS_CUDA
std::uint64_t weight_bytes(const gguf::File& file) {
  std::uint64_t bytes = 0;
  for (const auto& tensor : file.tensors()) bytes += tensor.byte_size;
  return bytes;
}

// Probe, select (reasons go to the report), build Engine<P> for the choice.
// Returns nullptr, with why in `absent`, when no CUDA device exists.
std::unique_ptr<runtime::AnyEngine> gpu_engine(const gguf::MappedFile& file, const model::ModelConfig& config,
                                               const LoadOptions& options, std::optional<mapping::PolicyId> forced,
                                               std::vector<std::string>& report, std::string& absent) {
  const auto capabilities = mapping::probe();
  if (!capabilities.device.present) {
    absent = "no usable CUDA device (" + capabilities.device.absent_reason + ")";
    return nullptr;
  }
  const auto context = runtime::effective_context(options.engine.context_size, config.context_length);
  const auto selection = mapping::select_policy(
      capabilities, weight_bytes(file.gguf()),
      // Every sequence holds a KV cache of the context's size.
      runtime::KvCache::total_bytes(config.n_layers, context, config.kv_dim(), options.engine.sequences),
      {.forced = forced, .allow_fallback = options.allow_fallback});
  report.push_back(mapping::to_string(selection));
  return mapping::visit_policy(selection.policy, [&](auto tag) {
    using Policy = typename decltype(tag)::type;
    return std::make_unique<runtime::AnyEngine>(
        std::make_unique<runtime::Engine<Policy>>(file, mapping::policy_options<Policy>({options.hugepage_size, options.no_fallback}), options.engine));
  });
}
#endif

}  // namespace

Model::Model(std::unique_ptr<gguf::MappedFile> file, const LoadOptions& options)
    : file_(std::move(file)),
      config_(model::read_config(file_->gguf())),
      tokenizer_(text::vocabulary_from_gguf(file_->gguf())) {
  try {
    chat_template_ = options.chat_template.empty()
                         ? text::ChatTemplate::from_gguf(file_->gguf(), config_.architecture.chat_template)
                         : text::ChatTemplate::by_name(options.chat_template);
  } catch (const Error& e) {
    if (!options.chat_template.empty()) throw;
    chat_template_problem_ = e.what();  // only an error if someone asks for chat
  }
  // Every option is checked before the engine is chosen, so that a bad value
  // is an error on every machine, not only on the one whose path reads it.
  options.engine.sampling.validate();
  if (options.engine.sequences == 0) fail("the engine needs at least one sequence (EngineOptions::sequences is 0)");
  (void)mapping::parse_hugepage_size(options.hugepage_size);
  const std::optional<mapping::PolicyId> forced = mapping::parse_policy_choice(options.mapping);
  // Before any engine: the GPU engines read the norms only on the device.
  model::check_norms_finite(file_->gguf(), model::bind_weights(file_->gguf(), config_));

  std::string cpu_because;  // why the CPU reference path runs, when it does
  if (options.cpu) {
    cpu_because = "the CPU reference path was asked for";
  } else {
#if PAGODA_HAS_CUDA
    engine_ = gpu_engine(*file_, config_, options, forced, load_report_, cpu_because);
#else
    cpu_because = "built without CUDA";
#endif
  }
  if (!engine_) {
    // A forced policy that cannot apply is an error unless fallback was allowed, and then it is said.
    if (forced && !options.allow_fallback)
      fail("mapping policy {} was requested but cannot apply: {}. Allow fallback (--allow-fallback) to run on "
           "the CPU reference path, or leave the mapping to auto",
           mapping::name_of(*forced), cpu_because);
    if (forced)
      load_report_.push_back(fmt::format("mapping policy {} was requested but cannot apply ({}): fell back to the "
                                         "CPU reference path, as allowed",
                                         mapping::name_of(*forced), cpu_because));
    else if (!options.cpu)
      load_report_.push_back(cpu_because + ": running on the CPU reference path instead");
    engine_ = cpu_engine(file_->gguf(), options);
  }
  load_report_.push_back("weights: " + engine_->placement_line());
}

Model load(const std::filesystem::path& path, const LoadOptions& options) {
  return Model(gguf::MappedFile::open(path), options);
}

const text::ChatTemplate& Model::chat_template() const {
  if (!chat_template_) fail("{}: no chat template to use: {}", file_->gguf().name(), chat_template_problem_);
  return *chat_template_;
}

std::vector<std::int32_t> Model::chat_prompt(std::span<const text::ChatMessage> messages,
                                             bool add_generation_prompt) const {
  const auto& chat = chat_template();
  return tokenizer_.encode(chat.render(messages, add_generation_prompt), /*add_special=*/!chat.renders_bos(),
                           /*parse_special=*/true);
}

void Model::reset() {
  engine_->rewind(0);
  cached_.clear();
}

GenerationStats Model::generate(std::span<const std::int32_t> prompt, std::size_t max_tokens,
                                const TextCallback& on_text) {
  // Reuse what the cache holds of this prompt; at least one token is run so
  // there are logits to sample from.
  std::size_t reuse = 0;
  while (reuse < cached_.size() && reuse < prompt.size() && cached_[reuse] == prompt[reuse]) ++reuse;
  if (reuse == prompt.size() && reuse > 0) --reuse;
  engine_->rewind(static_cast<std::uint32_t>(reuse));
  cached_.resize(reuse);
  const auto fresh = prompt.subspan(reuse);
  if (engine_->position() + fresh.size() >= engine_->context_size())
    fail("the context is full: {} cached tokens + {} new leave no room to answer in a context of {}", reuse,
         fresh.size(), engine_->context_size());

  GenerationStats stats{.prompt_tokens = fresh.size()};
  const auto prefill_start = Clock::now();
  std::int32_t token = engine_->prefill(fresh);
  cached_.insert(cached_.end(), fresh.begin(), fresh.end());
  stats.prompt_seconds = std::chrono::duration<double>(Clock::now() - prefill_start).count();

  text::StreamDecoder stream(tokenizer_);
  const auto decode_start = Clock::now();
  while (stats.generated_tokens < max_tokens) {
    if (tokenizer_.is_end_of_generation(token)) {
      stats.ended = true;
      break;
    }
    if (const auto text = stream.feed(token); !text.empty() && !on_text(text)) {
      stats.stopped = true;  // the refused text was not shown: not counted
      break;
    }
    ++stats.generated_tokens;
    if (engine_->position() >= engine_->context_size()) {
      stats.context_full = true;
      break;
    }
    const std::int32_t fed = token;
    token = engine_->decode(fed);
    cached_.push_back(fed);
  }
  if (!stats.stopped)
    if (const auto rest = stream.flush(); !rest.empty()) on_text(rest);
  stats.generate_seconds = std::chrono::duration<double>(Clock::now() - decode_start).count();
  return stats;
}

}  // namespace pagoda
