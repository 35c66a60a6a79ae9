// SamplingParams::validate: the allowed ranges, one line per field, so the
// message a user sees names the field and what it may be.
#include "pagoda/runtime/sampling_params.hpp"

#include <cmath>
#include <string_view>

#include "pagoda/core/error.hpp"

namespace pagoda::runtime {

namespace {

template <class T>
void require_in_range(std::string_view field, T value, bool ok, std::string_view allowed) {
  if (!ok) fail("sampling parameter {} = {} is out of range: allowed {}", field, value, allowed);
}

}  // namespace

static_assert(max_penalty_last_n == 4096, "update the penalty_last_n message");

void SamplingParams::validate() const {
  // Each condition is false for NaN, so a NaN is rejected too.
  require_in_range("temperature", temperature, std::isfinite(temperature) && temperature >= 0,
                   "finite and >= 0 (0 = greedy)");
  require_in_range("top_k", top_k, top_k >= 0, ">= 0 (0 = off)");
  require_in_range("top_p", top_p, top_p >= 0 && top_p <= 1, "[0, 1] (1 = off)");
  require_in_range("min_p", min_p, min_p >= 0 && min_p <= 1, "[0, 1] (0 = off)");
  require_in_range("repeat_penalty", repeat_penalty, repeat_penalty > 0 && repeat_penalty <= 100,
                   "(0, 100] (1 = off)");
  require_in_range("frequency_penalty", frequency_penalty, frequency_penalty >= -2 && frequency_penalty <= 2,
                   "[-2, 2] (0 = off)");
  require_in_range("presence_penalty", presence_penalty, presence_penalty >= -2 && presence_penalty <= 2,
                   "[-2, 2] (0 = off)");
  require_in_range("penalty_last_n", penalty_last_n, penalty_last_n >= 0 && penalty_last_n <= max_penalty_last_n,
                   "[0, 4096] (0 = no penalties)");
}

}  // namespace pagoda::runtime
