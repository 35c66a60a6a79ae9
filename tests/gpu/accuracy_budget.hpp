// The accuracy budget's measure (the brief's): mean KL divergence of a
// candidate's next-token distribution from the oracle's, in nats, and top-1
// agreement, over positions.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>

namespace pagoda::gpu_test {

struct Budget {
  std::size_t positions = 0, top1_equal = 0;
  double kld_sum = 0, kld_max = 0;
  void add(std::span<const float> oracle, std::span<const float> gpu) {
    // KL(P_oracle || P_gpu) from the two log-softmaxes, in double.
    const auto log_normaliser = [](std::span<const float> z) {
      const double top = *std::max_element(z.begin(), z.end());
      double sum = 0;
      for (float v : z) sum += std::exp(double(v) - top);
      return top + std::log(sum);
    };
    const double lo = log_normaliser(oracle), lg = log_normaliser(gpu);
    double kld = 0;
    for (std::size_t i = 0; i < oracle.size(); ++i) {
      const double lp = double(oracle[i]) - lo;
      kld += std::exp(lp) * (lp - (double(gpu[i]) - lg));
    }
    kld = std::max(kld, 0.0);
    ++positions;
    kld_sum += kld;
    kld_max = std::max(kld_max, kld);
    const auto argmax = [](std::span<const float> z) { return std::max_element(z.begin(), z.end()) - z.begin(); };
    top1_equal += argmax(oracle) == argmax(gpu);
  }
  [[nodiscard]] double mean() const { return kld_sum / double(positions); }
  [[nodiscard]] double top1() const { return double(top1_equal) / double(positions); }
  [[nodiscard]] std::string text() const {
    return std::to_string(positions) + " positions: mean KLD " + std::to_string(mean()) + " nats, max " +
           std::to_string(kld_max) + ", top-1 " + std::to_string(top1_equal) + "/" + std::to_string(positions);
  }
};

}  // namespace pagoda::gpu_test
