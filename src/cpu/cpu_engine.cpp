#include "pagoda/cpu/cpu_engine.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::cpu {

CpuEngine::CpuEngine(const gguf::File& file, const runtime::EngineOptions& options)
    : model_(file, runtime::effective_context(options.context_size, model::read_config(file).context_length),
             options.cpu_threads, options.sequences) {
  sequences_.reserve(options.sequences);
  for (std::uint32_t i = 0; i < options.sequences; ++i)
    sequences_.push_back({.sampler = Sampler(model_.config().vocab_size, options.sampling), .logits = {}, .history = {}});
}

void CpuEngine::check_finite(std::uint32_t sequence) const {
  // A NaN or infinite logit (damaged weights, an overflow) would be sampled as
  // some token or none: stop with the position instead.
  const auto& s = sequences_[sequence];
  const auto bad = std::ranges::find_if(s.logits, [](float logit) { return !std::isfinite(logit); });
  if (bad != s.logits.end())
    fail("{}the logits after position {} are not finite ({} for token {}): the weights or activations hold NaN or "
         "infinity; generation stopped",
         sequences() > 1 ? fmt::format("sequence {}: ", sequence) : "", s.history.size() - 1, *bad,
         bad - s.logits.begin());
}

void CpuEngine::step(std::span<runtime::SequenceStep> steps) {
  // Every refusal before anything runs: no item's cache moves when another's is wrong.
  std::vector<bool> named(sequences(), false);
  for (const auto& item : steps) {
    model_.check_forward(item.sequence, item.tokens);
    if (named[item.sequence]) fail("sequence {} appears twice in one step", item.sequence);
    named[item.sequence] = true;
  }
  for (const auto& item : steps) {
    auto& s = sequences_[item.sequence];
    s.logits = model_.forward(item.sequence, item.tokens);
    s.history.insert(s.history.end(), item.tokens.begin(), item.tokens.end());
  }
  for (const auto& item : steps) check_finite(item.sequence);
  for (auto& item : steps) {
    auto& s = sequences_[item.sequence];
    item.next = s.sampler.sample(s.logits, s.history);
  }
}

std::int32_t CpuEngine::prefill(std::span<const std::int32_t> tokens) {
  runtime::SequenceStep item{.sequence = 0, .tokens = tokens};
  step(std::span(&item, 1));
  return item.next;
}

std::int32_t CpuEngine::decode(std::int32_t token) { return prefill(std::span(&token, 1)); }

std::vector<float> CpuEngine::forward_all_logits(std::span<const std::int32_t> tokens) {
  auto all = model_.forward(0, tokens, /*all_logits=*/true);
  const std::size_t vocab = model_.config().vocab_size;
  auto& s = sequences_.front();
  s.logits.assign(all.end() - static_cast<std::ptrdiff_t>(vocab), all.end());
  s.history.insert(s.history.end(), tokens.begin(), tokens.end());
  return all;
}

void CpuEngine::rewind_sequence(std::uint32_t sequence, std::uint32_t keep) {
  model_.rewind(sequence, keep);
  sequences_[sequence].history.resize(keep);
}

void CpuEngine::set_sequence_sampling(std::uint32_t sequence, const runtime::SamplingParams& params) {
  model_.check_sequence(sequence);
  auto& sampler = sequences_[sequence].sampler;
  const auto step = sampler.step();
  sampler = Sampler(model_.config().vocab_size, params);
  sampler.set_step(step);
}

std::string CpuEngine::placement_line() const {
  return fmt::format("CPU reference: weights read from the file mapping and dequantized to float32 row by row, "
                     "{} threads, {}no GPU used",
                     model_.threads(), sequences() > 1 ? fmt::format("{} sequences, ", sequences()) : "");
}

}  // namespace pagoda::cpu
