// dequantize(quantize(x)) stays within each format's error budget, on seeded
// random weight-like inputs. The quantizer is tests/quant/reference_quantizer.hpp
// (simple, not ggml's), so the budgets bound the format plus a plain
// quantizer, not the best a format can do; a decoder that reads one bit from
// the wrong place breaks them by orders of magnitude.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string_view>
#include <vector>

#include <pagoda/quant/format_list.hpp>

#include "random_blocks.hpp"
#include "reference_quantizer.hpp"

using namespace pagoda::quant;

namespace {

// Error budget per format, relative to the block's largest |x| (amax):
//   max_error: the worst element of any block;  rms_error: over all elements.
// max_error follows from the grid: half a step (affine formats: step =
// range / (levels - 1), range <= 2 amax), or for the symmetric formats, whose
// grid ends one step short on the side opposite amax (q in -8..7 for Q4_0),
// a full step; plus a little for the f16 super-scales and the 4/6-bit
// sub-block scale codes of the K formats. rms_error is the observed value
// (seed 2024) with ~20% headroom.
struct Budget {
  std::string_view format;
  double max_error;
  double rms_error;
};
constexpr Budget budgets[] = {
    // format  max      rms          bound behind max_error
    {"F32", 0.0, 0.0},               // exact
    {"F16", 1.0 / 2048, 1.0 / 4096}, // half an ulp: 2^-11
    {"BF16", 1.0 / 256, 1.0 / 1024}, // half an ulp: 2^-8
    {"Q4_0", 0.13, 0.045},           // one step: 1/8
    {"Q4_1", 0.07, 0.036},           // half a step: 2/15/2
    {"Q5_0", 0.066, 0.022},          // one step: 1/16
    {"Q5_1", 0.035, 0.018},          // half a step: 2/31/2
    {"Q8_0", 0.0045, 0.0027},        // half a step: 1/127/2
    {"Q2_K", 0.36, 0.10},            // half a step: 2/3/2, + 4-bit scales
    {"Q3_K", 0.27, 0.055},           // one step: 1/4, + 6-bit scales
    {"Q4_K", 0.08, 0.026},           // half a step: 2/15/2, + 6-bit scales
    {"Q5_K", 0.05, 0.013},           // half a step: 2/31/2, + 6-bit scales
    {"Q6_K", 0.035, 0.0066},         // one step: 1/32
};

const Budget* budget_of(std::string_view format) {
  for (const auto& b : budgets)
    if (b.format == format) return &b;
  return nullptr;
}

// Weight-like values: normal, with a per-block magnitude over 8 binades and
// an occasional outlier, as real tensors have.
std::vector<float> weight_like_block(std::mt19937& rng, std::size_t n) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> binade(-4.0f, 4.0f);
  std::uniform_int_distribution<std::size_t> position(0, n - 1);
  const float magnitude = std::exp2(binade(rng));
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng) * magnitude;
  if (n > 1) x[position(rng)] *= 4.0f;
  return x;
}

}  // namespace

TEST_CASE("every listed format has an error budget") {
  for (std::string_view name : format_names) CHECK_MESSAGE(budget_of(name) != nullptr, name);
}

TEST_CASE_TEMPLATE_DEFINE("quantize then dequantize stays within the format's error budget", F, round_trip_id) {
  const Budget* budget = budget_of(F::name);
  REQUIRE(budget != nullptr);
  std::mt19937 rng(2024);
  // Single-element formats see the same number of values as one K block would.
  const int n_blocks = F::block_elements == 1 ? 256 * 256 : 256;
  const int group = F::block_elements == 1 ? 256 : 1;  // elements judged together
  double worst = 0, sum_squares = 0;
  std::size_t count = 0;
  std::vector<float> decoded(F::block_elements);
  for (int i = 0; i < n_blocks / group; ++i) {
    const std::vector<float> x = weight_like_block(rng, F::block_elements * group);
    float amax = 0;
    for (float v : x) amax = std::max(amax, std::fabs(v));
    REQUIRE(amax > 0.0f);  // the input is real data, not zeros
    for (int g = 0; g < group; ++g) {
      const float* xs = x.data() + g * F::block_elements;
      F::dequantize_block(testing::quantize_block<F>(xs), decoded.data());
      for (std::size_t j = 0; j < F::block_elements; ++j) {
        const double error = std::fabs(double{decoded[j]} - xs[j]) / amax;
        worst = std::max(worst, error);
        sum_squares += error * error;
        ++count;
      }
    }
  }
  const double rms = std::sqrt(sum_squares / static_cast<double>(count));
  MESSAGE(F::name << ": max error " << worst << ", rms error " << rms << " (relative to block amax)");
  CHECK(worst <= budget->max_error);
  CHECK(rms <= budget->rms_error);
}
TEST_CASE_TEMPLATE_APPLY(round_trip_id, testing::as_tuple<formats>::type);

TEST_CASE("the reference quantizer is exact where the format is: Q8_0 on multiples of d") {
  float x[32];
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16) * 0.5f;
  x[0] = -63.5f;  // = -127 * 0.5: sets d = 0.5 exactly
  float y[32];
  Q8_0::dequantize_block(testing::quantize_block<Q8_0>(x), y);
  for (int i = 0; i < 32; ++i) CHECK(y[i] == x[i]);
}
