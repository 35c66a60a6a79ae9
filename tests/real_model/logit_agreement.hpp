// How far the oracle's logits are from a reference's: top-1 agreement and
// |difference| over the reference's listed [id, logit] entries.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>

#include <nlohmann/json.hpp>

namespace pagoda::test {

struct LogitAgreement {
  std::size_t positions = 0;
  std::size_t top1_equal = 0;
  double max_abs_diff = 0;
  double sum_abs_diff = 0;
  std::size_t compared = 0;

  // `row`: our logits at one position; `top`: the reference's [[id, logit], ...], best first.
  void add_position(std::span<const float> row, const nlohmann::json& top) {
    ++positions;
    const auto ours = std::max_element(row.begin(), row.end()) - row.begin();
    if (ours == top[0][0].get<std::int64_t>()) ++top1_equal;
    for (const auto& entry : top) add_value(row[entry[0].get<std::size_t>()], entry[1].get<double>());
  }
  void add_value(double ours, double expected) {
    const double diff = std::abs(ours - expected);
    max_abs_diff = std::max(max_abs_diff, diff);
    sum_abs_diff += diff;
    ++compared;
  }
  [[nodiscard]] double top1_rate() const { return positions ? double(top1_equal) / double(positions) : 0.0; }
  [[nodiscard]] double mean_abs_diff() const { return compared ? sum_abs_diff / double(compared) : 0.0; }
};

}  // namespace pagoda::test
