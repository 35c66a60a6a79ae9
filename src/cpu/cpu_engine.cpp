#include "pagoda/cpu/cpu_engine.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::cpu {

CpuEngine::CpuEngine(const gguf::File& file, const runtime::EngineOptions& options)
    : model_(file, runtime::effective_context(options.context_size, model::read_config(file).context_length),
             options.cpu_threads),
      sampler_(model_.config().vocab_size, options.sampling) {}

std::int32_t CpuEngine::sample() {
  // A NaN or infinite logit (damaged weights, an overflow) would be sampled as
  // some token or none: stop with the position instead.
  const auto bad = std::ranges::find_if(logits_, [](float logit) { return !std::isfinite(logit); });
  if (bad != logits_.end())
    fail("the logits after position {} are not finite ({} for token {}): the weights or activations hold NaN or "
         "infinity; generation stopped",
         history_.size() - 1, *bad, bad - logits_.begin());
  return sampler_.sample(logits_, history_);
}

std::int32_t CpuEngine::prefill(std::span<const std::int32_t> tokens) {
  logits_ = model_.forward(tokens);
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  return sample();
}

std::int32_t CpuEngine::decode(std::int32_t token) { return prefill(std::span(&token, 1)); }

std::vector<float> CpuEngine::forward_all_logits(std::span<const std::int32_t> tokens) {
  auto all = model_.forward(tokens, /*all_logits=*/true);
  const std::size_t vocab = model_.config().vocab_size;
  logits_.assign(all.end() - static_cast<std::ptrdiff_t>(vocab), all.end());
  history_.insert(history_.end(), tokens.begin(), tokens.end());
  return all;
}

void CpuEngine::rewind(std::uint32_t keep) {
  model_.rewind(keep);
  history_.resize(keep);
}

void CpuEngine::set_sampling(const runtime::SamplingParams& params) {
  const auto step = sampler_.step();
  sampler_ = Sampler(model_.config().vocab_size, params);
  sampler_.set_step(step);
}

std::string CpuEngine::placement_line() const {
  return fmt::format("CPU reference: weights read from the file mapping and dequantized to float32 row by row, "
                     "{} threads, no GPU used",
                     model_.threads());
}

}  // namespace pagoda::cpu
