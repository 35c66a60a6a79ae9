// mean +- sample standard deviation, as llama-bench reports t/s, and the
// median the kernel bench reports.
#include <doctest/doctest.h>

#include <vector>

#include "pagoda_bench/statistics.hpp"

using namespace pagoda::bench;

TEST_CASE("mean and sample standard deviation") {
  const std::vector<double> samples{2, 4, 4, 4, 5, 5, 7, 9};
  const Summary s = summarize(samples);
  CHECK(s.count == 8);
  CHECK(s.mean == doctest::Approx(5.0));
  CHECK(s.stddev == doctest::Approx(2.138089935));  // sqrt(32 / 7): n - 1, not n
  CHECK(s.median == doctest::Approx(4.5));
  CHECK(s.min == 2);
  CHECK(s.max == 9);
}

TEST_CASE("one sample has no spread; none is all zeros") {
  const std::vector<double> one{3.5};
  const Summary s = summarize(one);
  CHECK(s.mean == 3.5);
  CHECK(s.stddev == 0);
  CHECK(s.median == 3.5);
  const Summary empty = summarize(std::vector<double>{});
  CHECK(empty.count == 0);
  CHECK(empty.mean == 0);
}

TEST_CASE("the median of an odd count is the middle sample, whatever the order") {
  const std::vector<double> samples{9, 1, 5, 3, 7};
  CHECK(summarize(samples).median == 5);
}

TEST_CASE("rates divide the work by each repetition's time; t/s is averaged per repetition") {
  const std::vector<double> seconds{0.5, 0.25, 0.0};
  CHECK(rates(128, seconds) == std::vector<double>{256, 512, 0});
  // The mean of the rates (llama-bench's avg_ts), not the work over the mean time.
  const std::vector<double> two{1.0, 0.5};
  CHECK(summarize(rates(100, two)).mean == doctest::Approx(150.0));
}
