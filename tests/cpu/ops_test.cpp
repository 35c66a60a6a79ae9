// The oracle's primitive operations, checked against their definitions.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "pagoda/cpu/ops.hpp"

using namespace pagoda;

namespace {

std::vector<float> random_values(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// An F32 tensor view over caller-owned floats: (cols) x rows.
gguf::TensorInfo f32_tensor(const std::vector<float>& values, std::uint64_t cols, std::uint64_t rows) {
  gguf::TensorInfo info{};
  info.name = "test.weight";
  info.dims = {cols, rows};
  info.type = gguf::TensorType::F32;
  info.element_count = cols * rows;
  info.byte_size = info.element_count * sizeof(float);
  info.bytes = std::as_bytes(std::span(values));
  return info;
}

}  // namespace

TEST_CASE("rms_norm scales by the reciprocal root mean square, then by the weight") {
  const std::vector<float> x{1.0f, -2.0f, 3.0f, -4.0f};
  const std::vector<float> w{1.0f, 0.5f, 2.0f, 1.0f};
  std::vector<float> out(4);
  cpu::rms_norm(x, w, 1e-6f, out);
  const float rms = std::sqrt((1.0f + 4.0f + 9.0f + 16.0f) / 4.0f + 1e-6f);
  for (int i = 0; i < 4; ++i) CHECK(out[i] == doctest::Approx(x[i] / rms * w[i]).epsilon(1e-6));
}

TEST_CASE("softmax sums to one, keeps order, and survives large inputs") {
  std::vector<float> v{1000.0f, 1001.0f, 999.0f};
  cpu::softmax(v);
  CHECK(v[0] + v[1] + v[2] == doctest::Approx(1.0f));
  CHECK(v[1] > v[0]);
  CHECK(v[0] > v[2]);
  CHECK(v[1] == doctest::Approx(std::exp(1.0) / (1.0 + std::exp(1.0) + std::exp(-1.0))));
}

TEST_CASE("silu is x * sigmoid(x)") {
  for (float x : {-5.0f, -0.5f, 0.0f, 0.7f, 4.0f}) CHECK(cpu::silu(x) == doctest::Approx(x / (1 + std::exp(-x))));
}

TEST_CASE("RoPE at position 0 is the identity and never changes a pair's length") {
  for (auto layout : {model::RopeLayout::interleaved, model::RopeLayout::neox}) {
    const model::RopeConfig rope{.layout = layout, .dimensions = 64, .freq_base = 10000.0f};
    const auto original = random_values(64, 7);
    auto head = original;
    cpu::apply_rope(head, 0, rope);
    CHECK(head == original);
    cpu::apply_rope(head, 1234, rope);
    CHECK(head != original);
    const auto norm = [](const std::vector<float>& v) { return std::inner_product(v.begin(), v.end(), v.begin(), 0.0); };
    CHECK(norm(head) == doctest::Approx(norm(original)).epsilon(1e-5));
  }
}

TEST_CASE("RoPE makes q.k depend only on the distance between positions") {
  for (auto layout : {model::RopeLayout::interleaved, model::RopeLayout::neox}) {
    const model::RopeConfig rope{.layout = layout, .dimensions = 32, .freq_base = 100000.0f};
    const auto q = random_values(32, 1);
    const auto k = random_values(32, 2);
    const auto rotated_dot = [&](std::uint32_t qpos, std::uint32_t kpos) {
      auto a = q, b = k;
      cpu::apply_rope(a, qpos, rope);
      cpu::apply_rope(b, kpos, rope);
      return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
    };
    CHECK(rotated_dot(10, 3) == doctest::Approx(rotated_dot(107, 100)).epsilon(1e-4));
  }
}

TEST_CASE("interleaved RoPE rotates adjacent pairs, NeoX RoPE rotates halves") {
  std::vector<float> head{1.0f, 0.0f, 0.0f, 0.0f};
  const float angle = 1.0f;  // pair 0 at position 1: angle = 1 * base^0
  model::RopeConfig rope{.layout = model::RopeLayout::interleaved, .dimensions = 4, .freq_base = 10000.0f};
  cpu::apply_rope(head, 1, rope);
  CHECK(head[0] == doctest::Approx(std::cos(angle)));
  CHECK(head[1] == doctest::Approx(std::sin(angle)));
  CHECK(head[2] == 0.0f);

  head = {1.0f, 0.0f, 0.0f, 0.0f};
  rope.layout = model::RopeLayout::neox;
  cpu::apply_rope(head, 1, rope);
  CHECK(head[0] == doctest::Approx(std::cos(angle)));
  CHECK(head[1] == 0.0f);
  CHECK(head[2] == doctest::Approx(std::sin(angle)));
}

TEST_CASE("RoPE frequency factors and linear scaling stretch the angle") {
  const model::RopeConfig plain{.layout = model::RopeLayout::interleaved, .dimensions = 2, .freq_base = 10000.0f};
  model::RopeConfig scaled = plain;
  scaled.linear_scale = 4.0f;
  model::RopeConfig factored = plain;
  factored.freq_factors = {4.0f};
  std::vector<float> a{1.0f, 0.0f}, b{1.0f, 0.0f}, c{1.0f, 0.0f};
  cpu::apply_rope(a, 2, plain);
  cpu::apply_rope(b, 8, scaled);
  cpu::apply_rope(c, 8, factored);
  CHECK(a[0] == doctest::Approx(b[0]));
  CHECK(a[1] == doctest::Approx(b[1]));
  CHECK(a[0] == doctest::Approx(c[0]));
  CHECK(a[1] == doctest::Approx(c[1]));
}

TEST_CASE("matmul equals a naive double-precision product, for odd sizes and many tokens") {
  cpu::ThreadPool pool(3);
  for (auto [k, rows, tokens] : {std::tuple{17u, 31u, 1u}, {33u, 5u, 7u}, {64u, 129u, 3u}}) {
    const auto weights = random_values(std::size_t{k} * rows, k + rows);
    const auto x = random_values(std::size_t{k} * tokens, tokens);
    REQUIRE(std::any_of(x.begin(), x.end(), [](float v) { return v != 0.0f; }));
    const auto tensor = f32_tensor(weights, k, rows);
    std::vector<float> y(std::size_t{rows} * tokens, std::nanf(""));
    cpu::matmul(tensor, x, tokens, y, pool);
    for (std::size_t t = 0; t < tokens; ++t)
      for (std::size_t r = 0; r < rows; ++r) {
        double expected = 0;
        for (std::size_t i = 0; i < k; ++i) expected += double(weights[r * k + i]) * x[t * k + i];
        CHECK(y[t * rows + r] == doctest::Approx(expected).epsilon(1e-5));
      }
  }
}

TEST_CASE("matmul refuses inputs whose sizes disagree with the weight") {
  cpu::ThreadPool pool(1);
  const std::vector<float> weights(8 * 4, 1.0f);
  const auto tensor = f32_tensor(weights, 8, 4);
  std::vector<float> x(7), y(4);
  CHECK_THROWS_WITH_AS(cpu::matmul(tensor, x, 1, y, pool), doctest::Contains("test.weight"), pagoda::Error);
}
