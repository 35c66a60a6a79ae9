// Summaries of repeated timings. pagoda-bench reports mean +- sample standard
// deviation of the per-repetition t/s, as llama-bench does; the kernel bench
// reports the median, which a stray slow launch does not move.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace pagoda::bench {

struct Summary {
  std::size_t count = 0;
  double mean = 0;
  double stddev = 0;  // sample (n - 1) standard deviation; 0 for fewer than two samples
  double median = 0;
  double min = 0;
  double max = 0;
};

// Summary of no samples is all zeros.
[[nodiscard]] inline Summary summarize(std::span<const double> samples) {
  Summary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  double sum = 0;
  for (double x : samples) sum += x;
  s.mean = sum / static_cast<double>(s.count);
  if (s.count > 1) {
    double squares = 0;
    for (double x : samples) squares += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(squares / static_cast<double>(s.count - 1));
  }
  std::vector<double> sorted(samples.begin(), samples.end());
  std::ranges::sort(sorted);
  s.min = sorted.front();
  s.max = sorted.back();
  const std::size_t mid = s.count / 2;
  s.median = s.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return s;
}

// Per-repetition rates from per-repetition times: work / seconds each.
[[nodiscard]] inline std::vector<double> rates(double work, std::span<const double> seconds) {
  std::vector<double> out;
  out.reserve(seconds.size());
  for (double s : seconds) out.push_back(s > 0 ? work / s : 0.0);
  return out;
}

}  // namespace pagoda::bench
