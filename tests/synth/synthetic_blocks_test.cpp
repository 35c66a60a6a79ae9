// The random block generators: every format's synthetic blocks dequantize to
// finite values centred on zero with the RMS asked for, the packed K-quant
// scales read back as written, and the counter-based RNG is a pure function
// of its key.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <tuple>
#include <vector>

#include "pagoda/model/synthetic_blocks.hpp"
#include "pagoda/quant/format_list.hpp"
#include "pagoda/quant/k_scales.hpp"

using namespace pagoda;
namespace synth = pagoda::model::synth;

namespace {

template <class List>
struct as_tuple;
template <class... Fs>
struct as_tuple<type_list<Fs...>> {
  using type = std::tuple<Fs...>;
};

// `units` generation units of F, dequantized.
template <class F>
std::vector<float> synthetic_values(std::size_t units, float target, float mean = 0.0f) {
  std::vector<float> out;
  for (std::size_t u = 0; u < units; ++u) {
    auto rng = synth::unit_rng(42, 3, u);
    if constexpr (F::block_elements == 1) {
      std::vector<std::byte> bytes(synth::float_unit_elements * F::block_bytes);
      synth::random_floats<F>(rng, mean, target, synth::float_unit_elements, bytes.data());
      for (std::size_t i = 0; i < synth::float_unit_elements; ++i) {
        typename F::block b;
        std::memcpy(&b, bytes.data() + i * F::block_bytes, F::block_bytes);
        out.push_back(F::dequantize_element(b, 0));
      }
    } else {
      typename F::block b;
      synth::random_block<F>(rng, target, b);
      float values[F::block_elements];
      F::dequantize_block(b, values);
      out.insert(out.end(), values, values + F::block_elements);
    }
  }
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("synthetic blocks dequantize to finite values with the requested RMS and mean ~0", F,
                          block_stats_id) {
  constexpr float target = 0.02f;
  const auto values = synthetic_values<F>(F::block_elements == 1 ? 64 : 2048 / (F::block_elements / 32), target);
  REQUIRE(values.size() >= 16384);
  double sum = 0.0, sum_sq = 0.0;
  bool finite = true;
  bool all_equal = true;
  for (const float v : values) {
    finite = finite && std::isfinite(v);
    all_equal = all_equal && v == values.front();
    sum += v;
    sum_sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(values.size());
  const double mean = sum / n;
  const double rms = std::sqrt(sum_sq / n);
  INFO(F::name, ": mean ", mean, ", rms ", rms);
  CHECK(finite);
  CHECK_FALSE(all_equal);
  CHECK(std::abs(mean) < 0.05 * target);
  CHECK(rms > 0.85 * target);
  CHECK(rms < 1.2 * target);
}
TEST_CASE_TEMPLATE_APPLY(block_stats_id, as_tuple<quant::formats>::type);

TEST_CASE("float units carry the requested mean (norm weights around 1)") {
  const auto values = synthetic_values<quant::F32>(16, 0.05f, 1.0f);
  double sum = 0.0;
  for (const float v : values) sum += v;
  CHECK(sum / static_cast<double>(values.size()) == doctest::Approx(1.0).epsilon(0.01));
}

TEST_CASE("packed Q4_K/Q5_K scales and mins read back through quant::k_scale_min") {
  const std::uint8_t scale[8] = {0, 63, 17, 32, 45, 1, 62, 33};
  const std::uint8_t min[8] = {63, 0, 5, 40, 2, 61, 30, 16};
  std::uint8_t packed[12];
  synth::detail::pack_k_scales(scale, min, packed);
  for (int j = 0; j < 8; ++j) {
    const auto sm = quant::k_scale_min(packed, j);
    CHECK(sm.scale == scale[j]);
    CHECK(sm.min == min[j]);
  }
}

TEST_CASE("packed Q3_K scales read back through quant::q3_k_scale") {
  const int scale[16] = {-32, 31, -1, 0, 17, -17, 5, -5, 30, -30, 16, -16, 1, 2, -31, 9};
  std::uint8_t packed[12];
  synth::detail::pack_q3_k_scales(scale, packed);
  for (int j = 0; j < 16; ++j) CHECK(quant::q3_k_scale(packed, j) == scale[j]);
}

TEST_CASE("the RNG of a unit depends only on (seed, tensor, unit)") {
  auto a = synth::unit_rng(1, 2, 3);
  auto b = synth::unit_rng(1, 2, 3);
  for (int i = 0; i < 8; ++i) CHECK(a.next() == b.next());
  CHECK(synth::unit_rng(1, 2, 3).next() != synth::unit_rng(2, 2, 3).next());
  CHECK(synth::unit_rng(1, 2, 3).next() != synth::unit_rng(1, 3, 3).next());
  CHECK(synth::unit_rng(1, 2, 3).next() != synth::unit_rng(1, 2, 4).next());
}
