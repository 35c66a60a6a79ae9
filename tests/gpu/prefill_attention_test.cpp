// kernels::attention_prefill against a CPU reference of causal grouped-query
// attention over the same f16 K/V cache (f64 scores, softmax and sums). Head
// sizes 64, 128 and 256 take the tensor-core kernel (attention_prefill_mma.cuh),
// which rounds the scaled Q and the probabilities P to f16 (a simulation of
// that rounding on these inputs gives nmse ~4e-8); 96 and 200 take the f32
// kernel (f32 rounding only). The budget for both is normalised MSE < 1e-6. Prompts start at 0 and deep in the cache, with
// 1..300 tokens (several query tiles, ragged last tile), GQA 1:1, 3:1 and
// 8:1, head_dim 64, 128 and 256 (and 96 and 200, inside a wider tile shape).
// Cache rows past the prompt hold NaN, so a read beyond the causal prefix
// shows; the output is poisoned before each run. Sliding-window layers: the
// rows before the first query's window hold NaN too, and each query's window
// starts at its own position - window + 1.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include <cuda_runtime_api.h>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/attention_prefill.cuh>
#include <pagoda/quant/half.hpp>

#include "gpu/prefill_support.hpp"

using namespace pagoda;

namespace {

struct Shape {
  std::uint32_t n_heads, n_kv_heads, head_dim, start;
  std::size_t tokens;
  std::uint32_t window = 0;  // > 0: a sliding-window layer
};

std::size_t first_visible(const Shape& s, std::size_t position) {
  return s.window != 0 && position + 1 > s.window ? position + 1 - s.window : 0;
}

// out[t][h] over cache rows first_visible..start+t, in f64.
std::vector<float> reference(const Shape& s, const std::vector<float>& q, const std::vector<float>& k,
                             const std::vector<float>& v, float scale) {
  const std::size_t q_dim = std::size_t{s.n_heads} * s.head_dim;
  const std::size_t kv_dim = std::size_t{s.n_kv_heads} * s.head_dim;
  const std::uint32_t group = s.n_heads / s.n_kv_heads;
  std::vector<float> out(s.tokens * q_dim);
  std::vector<double> scores;
  for (std::size_t t = 0; t < s.tokens; ++t) {
    const std::size_t first = first_visible(s, s.start + t);
    const std::size_t visible = s.start + t + 1 - first;
    for (std::uint32_t h = 0; h < s.n_heads; ++h) {
      const float* qh = q.data() + t * q_dim + std::size_t{h} * s.head_dim;
      const std::size_t kv_off = std::size_t{h / group} * s.head_dim;
      scores.assign(visible, 0.0);
      double max = -INFINITY;
      for (std::size_t p = 0; p < visible; ++p) {
        double dot = 0.0;
        for (std::uint32_t d = 0; d < s.head_dim; ++d) dot += double(qh[d]) * k[(first + p) * kv_dim + kv_off + d];
        scores[p] = dot * scale;
        max = std::max(max, scores[p]);
      }
      double sum = 0.0;
      for (double& x : scores) sum += (x = std::exp(x - max));
      for (std::uint32_t d = 0; d < s.head_dim; ++d) {
        double acc = 0.0;
        for (std::size_t p = 0; p < visible; ++p) acc += scores[p] * v[(first + p) * kv_dim + kv_off + d];
        out[t * q_dim + std::size_t{h} * s.head_dim + d] = static_cast<float>(acc / sum);
      }
    }
  }
  return out;
}

double run_case(const Shape& s, std::uint32_t seed) {
  const std::size_t q_dim = std::size_t{s.n_heads} * s.head_dim;
  const std::size_t kv_dim = std::size_t{s.n_kv_heads} * s.head_dim;
  const std::size_t filled = s.start + s.tokens;
  const std::uint32_t max_context = static_cast<std::uint32_t>(filled) + 7;
  std::mt19937 rng(seed);
  // Queries of RMS ~1.2 against keys of RMS ~0.6: scores with std ~0.7 at any
  // head size (scale 1/sqrt(head_dim)), so the softmax is neither flat nor one-hot.
  const std::vector<float> q = prefill_test::random_floats(s.tokens * q_dim, -2.0f, 2.0f, rng);
  std::vector<float> k = prefill_test::random_floats(filled * kv_dim, -1.0f, 1.0f, rng);
  std::vector<float> v = prefill_test::random_floats(filled * kv_dim, -1.0f, 1.0f, rng);
  std::vector<std::uint16_t> k16(std::size_t{max_context} * kv_dim, 0x7e00), v16(k16);  // NaN past the prompt
  for (std::size_t i = 0; i < k.size(); ++i) {
    k16[i] = quant::f32_to_f16(k[i]).bits;
    v16[i] = quant::f32_to_f16(v[i]).bits;
    k[i] = quant::f16_to_f32({k16[i]});
    v[i] = quant::f16_to_f32({v16[i]});
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(s.head_dim));
  // Rows no query of a sliding-window prompt can see: NaN on the device.
  std::fill_n(k16.begin(), first_visible(s, s.start) * kv_dim, std::uint16_t{0x7e00});
  std::fill_n(v16.begin(), first_visible(s, s.start) * kv_dim, std::uint16_t{0x7e00});

  prefill_test::DeviceArray<float> dq(q), dout(s.tokens * q_dim);
  prefill_test::DeviceArray<std::uint16_t> dk(k16), dv(v16);
  const auto device = kernels::DeviceInfo::current();
  kernels::attention_prefill(dq.get(), reinterpret_cast<const __half*>(dk.get()),
                             reinterpret_cast<const __half*>(dv.get()), dout.get(), s.n_heads, s.n_kv_heads,
                             s.head_dim, max_context, scale, s.start, s.tokens, device, nullptr, s.window);
  return prefill_test::normalized_mse(dout.download(), reference(s, q, k, v, scale));
}

}  // namespace

TEST_CASE("prefill: attention_prefill matches causal GQA attention over the same f16 cache") {
  const Shape shapes[] = {
      {4, 4, 64, 0, 1},      {4, 4, 64, 0, 300},    {4, 4, 64, 211, 65},   // 1:1
      {6, 2, 128, 0, 77},    {6, 2, 128, 133, 150}, {3, 1, 128, 0, 300},   // 3:1
      {8, 1, 256, 0, 33},    {8, 1, 256, 50, 100},  {8, 1, 128, 7, 129},   // 8:1
      {2, 2, 96, 19, 40},    {3, 1, 200, 0, 50},                            // padded head sizes
      {2, 1, 128, 3000, 37}, {4, 1, 64, 1, 1},                              // deep in the cache; one token
  };
  double worst = 0;
  std::uint32_t seed = 40;
  for (const Shape& s : shapes) {
    CAPTURE(s.n_heads);
    CAPTURE(s.n_kv_heads);
    CAPTURE(s.head_dim);
    CAPTURE(s.start);
    CAPTURE(s.tokens);
    const double error = run_case(s, ++seed);
    CHECK(error < 1e-6);
    worst = std::max(worst, error);
  }
  MESSAGE("attention_prefill: worst nmse " << worst);
}

TEST_CASE("prefill: attention_prefill on a sliding-window layer masks the keys beyond each query's window") {
  const Shape shapes[] = {
      {4, 1, 256, 0, 300, 1},    {4, 1, 256, 0, 300, 7},   {4, 1, 256, 0, 300, 64},   // window inside the prompt
      {4, 1, 256, 600, 100, 512}, {4, 1, 256, 450, 120, 512},                          // window over cache and prompt
      {6, 2, 128, 0, 77, 512},   {6, 2, 128, 1000, 33, 16}, {4, 4, 64, 211, 65, 100},   // window longer than the prefix; others
  };
  double worst = 0;
  std::uint32_t seed = 140;
  for (const Shape& s : shapes) {
    CAPTURE(s.n_heads);
    CAPTURE(s.head_dim);
    CAPTURE(s.start);
    CAPTURE(s.tokens);
    CAPTURE(s.window);
    const double error = run_case(s, ++seed);
    CHECK(error < 1e-6);
    worst = std::max(worst, error);
  }
  MESSAGE("attention_prefill with sliding windows: worst nmse " << worst);
}

TEST_CASE("prefill: attention_prefill refuses shapes it cannot compute") {
  prefill_test::DeviceArray<float> q(4096), out(4096);
  prefill_test::DeviceArray<std::uint16_t> cache(4096);
  const auto* c = reinterpret_cast<const __half*>(cache.get());
  const auto device = kernels::DeviceInfo::current();
  const auto call = [&](std::uint32_t heads, std::uint32_t kv, std::uint32_t dim, std::uint32_t max_context,
                        std::uint32_t start, std::size_t tokens) {
    kernels::attention_prefill(q.get(), c, c, out.get(), heads, kv, dim, max_context, 0.1f, start, tokens, device,
                               nullptr);
  };
  CHECK_THROWS_WITH_AS(call(6, 4, 64, 16, 0, 1), doctest::Contains("kernels::attention_prefill"), Error);
  CHECK_THROWS_AS(call(4, 4, 264, 4, 0, 1), Error);
  CHECK_THROWS_AS(call(4, 4, 60, 4, 0, 1), Error);
  CHECK_THROWS_WITH_AS(call(1, 1, 64, 16, 10, 7), doctest::Contains("max_context"), Error);
  CHECK_NOTHROW(call(1, 1, 64, 16, 10, 0));
  prefill_test::cuda_ok(cudaDeviceSynchronize(), "sync");
}
