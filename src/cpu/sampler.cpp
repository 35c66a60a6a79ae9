#include "pagoda/cpu/sampler.hpp"

#include <algorithm>
#include <map>

#include "pagoda/core/error.hpp"

namespace pagoda::cpu {

using runtime::SamplingParams;

void apply_penalties(std::span<float> logits, std::span<const std::int32_t> recent_tokens,
                     const SamplingParams& params) {
  const std::size_t window = std::min(recent_tokens.size(), static_cast<std::size_t>(std::max(params.penalty_last_n, 0)));
  std::map<std::int32_t, int> counts;
  for (std::int32_t token : recent_tokens.last(window)) ++counts[token];
  for (const auto& [token, count] : counts) {
    if (token < 0 || static_cast<std::size_t>(token) >= logits.size()) continue;
    logits[token] = runtime::penalized_logit(logits[token], count, params.repeat_penalty, params.frequency_penalty,
                                             params.presence_penalty);
  }
}

std::vector<SamplingCandidate> sorted_candidates(std::span<const float> logits, std::size_t count) {
  std::vector<SamplingCandidate> candidates(logits.size());
  for (std::size_t i = 0; i < logits.size(); ++i) candidates[i] = {logits[i], static_cast<std::int32_t>(i)};
  const auto before = [](const SamplingCandidate& a, const SamplingCandidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  };
  count = std::min(count, candidates.size());
  // Only the first `count` are ever looked at: sorting just those is the same result, faster.
  if (count == candidates.size())
    std::sort(candidates.begin(), candidates.end(), before);
  else
    std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(count), candidates.end(),
                      before);
  candidates.resize(count);
  return candidates;
}

std::size_t top_k_count(std::size_t n, int top_k) {
  return top_k > 0 ? std::min(n, static_cast<std::size_t>(top_k)) : n;
}

std::size_t top_p_count(std::span<const SamplingCandidate> sorted, float top_p) {
  const float top = sorted[0].logit;
  double total = 0;
  for (const SamplingCandidate& c : sorted) total += runtime::top_p_weight(c.logit, top);
  const double needed = static_cast<double>(top_p) * total;
  double before = 0;  // the mass of the candidates ranked above i
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i > 0 && !(before < needed)) return i;
    before += runtime::top_p_weight(sorted[i].logit, top);
  }
  return sorted.size();
}

std::size_t min_p_count(std::span<const SamplingCandidate> sorted, float min_p) {
  const float threshold = sorted[0].logit + runtime::min_p_log_offset(min_p);
  for (std::size_t i = 1; i < sorted.size(); ++i)
    if (!(sorted[i].logit >= threshold)) return i;
  return sorted.size();
}

std::size_t draw_index(std::span<const SamplingCandidate> kept, float temperature, double u) {
  const float top = kept[0].logit;
  double total = 0;
  for (const SamplingCandidate& c : kept) total += runtime::temperature_weight(c.logit, top, temperature);
  const double target = u * total;
  double cumulative = 0;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    cumulative += runtime::temperature_weight(kept[i].logit, top, temperature);
    if (cumulative > target) return i;
  }
  return kept.size() - 1;  // rounding left the target at the very end
}

Sampler::Sampler(std::size_t vocab_size, const SamplingParams& params)
    : vocab_size_(vocab_size), params_(params), work_(vocab_size) {
  params_.validate();
  if (vocab_size == 0) fail("sampler: the vocabulary is empty");
}

std::int32_t Sampler::sample(std::span<const float> logits, std::span<const std::int32_t> recent_tokens) {
  if (logits.size() != vocab_size_)
    fail("sampler: {} logits for a vocabulary of {} tokens", logits.size(), vocab_size_);
  std::transform(logits.begin(), logits.end(), work_.begin(), runtime::sanitize_logit);
  if (params_.penalties_active()) apply_penalties(work_, recent_tokens, params_);
  const double u = runtime::sampling_uniform(params_.seed, step_++);

  if (params_.greedy())  // the first maximum: ties go to the lower id
    return static_cast<std::int32_t>(std::max_element(work_.begin(), work_.end()) - work_.begin());

  const std::vector<SamplingCandidate> top = sorted_candidates(work_, top_k_count(vocab_size_, params_.top_k));
  std::size_t kept = top.size();
  if (params_.top_p_active()) kept = std::min(kept, top_p_count(top, params_.top_p));
  if (params_.min_p_active()) kept = std::min(kept, min_p_count(top, params_.min_p));
  return top[draw_index(std::span(top).first(kept), params_.temperature, u)].id;
}

}  // namespace pagoda::cpu
