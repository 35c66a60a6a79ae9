// The format list as a whole: properties every format has, visit_format as the
// one runtime -> compile-time step, and the host dequantize_row helper.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <pagoda/core/error.hpp>
#include <pagoda/quant/dequantize.hpp>
#include <pagoda/quant/format_list.hpp>

#include "random_blocks.hpp"

using namespace pagoda;
using namespace pagoda::quant;
using testing::as_tuple;

static_assert(formats::size == 13);
static_assert(QuantFormat<Q4_K>);
static_assert(!QuantFormat<int>);

TEST_CASE_TEMPLATE_DEFINE("every format's block geometry is the GGUF geometry of its id", F, geometry_id) {
  const gguf::TypeGeometry g = gguf::geometry_of(F::id);
  CHECK(g.name == F::name);
  CHECK(g.block_elements == F::block_elements);
  CHECK(g.block_bytes == F::block_bytes);
  CHECK(sizeof(typename F::block) == F::block_bytes);
  CHECK(is_supported(F::id));
}
TEST_CASE_TEMPLATE_APPLY(geometry_id, as_tuple<formats>::type);

TEST_CASE_TEMPLATE_DEFINE("dequantize_element agrees with dequantize_block at every index", F, element_id) {
  std::mt19937 rng(1234);
  std::vector<float> values(F::block_elements);
  for (int trial = 0; trial < 64; ++trial) {
    const typename F::block b = testing::random_block<F>(rng);
    F::dequantize_block(b, values.data());
    for (int i = 0; i < static_cast<int>(F::block_elements); ++i) {
      const float one = F::dequantize_element(b, i);
      REQUIRE_MESSAGE(std::memcmp(&one, &values[i], sizeof one) == 0, F::name << " element " << i);
    }
  }
}
TEST_CASE_TEMPLATE_APPLY(element_id, as_tuple<formats>::type);

TEST_CASE_TEMPLATE_DEFINE("dequantize_row decodes consecutive blocks from an unaligned address", F, row_id) {
  std::mt19937 rng(99);
  const std::size_t n_blocks = 7;
  const std::vector<std::byte> blocks = testing::random_blocks<F>(n_blocks, rng);
  std::vector<std::byte> shifted(blocks.size() + 1);
  std::memcpy(shifted.data() + 1, blocks.data(), blocks.size());  // odd address

  std::vector<float> row(n_blocks * F::block_elements);
  dequantize_row<F>(std::span(shifted).subspan(1), row);
  std::vector<float> expected(F::block_elements);
  for (std::size_t i = 0; i < n_blocks; ++i) {
    typename F::block b;
    std::memcpy(&b, blocks.data() + i * F::block_bytes, F::block_bytes);
    F::dequantize_block(b, expected.data());
    for (std::size_t j = 0; j < F::block_elements; ++j)
      REQUIRE(std::memcmp(&row[i * F::block_elements + j], &expected[j], sizeof(float)) == 0);
  }
  // The same through the runtime type.
  std::vector<float> via_type(row.size());
  dequantize_row(F::id, std::span(shifted).subspan(1), via_type);
  CHECK(std::memcmp(via_type.data(), row.data(), row.size() * sizeof(float)) == 0);
}
TEST_CASE_TEMPLATE_APPLY(row_id, as_tuple<formats>::type);

TEST_CASE_TEMPLATE_DEFINE("visit_format reaches format F for F's tensor type", F, visit_id) {
  const std::string_view reached =
      visit_format(F::id, [](auto tag) { return decltype(tag)::type::name; });
  CHECK(reached == F::name);
}
TEST_CASE_TEMPLATE_APPLY(visit_id, as_tuple<formats>::type);

TEST_CASE("visit_format returns what fn returns, references included") {
  static int counter = 0;
  int& r = visit_format(gguf::TensorType::Q8_0, [](auto) -> int& { return counter; });
  CHECK(&r == &counter);
  CHECK(visit_format(gguf::TensorType::Q4_K, [](auto tag) {
          return decltype(tag)::type::block_bytes;
        }) == 144);
}

TEST_CASE("visit_format throws for a type pagoda cannot compute, naming it and the supported ones") {
  const auto call = [](gguf::TensorType type) { visit_format(type, [](auto) {}); };
  CHECK_THROWS_AS(call(gguf::TensorType::Q8_K), Error);
  try {
    call(gguf::TensorType::IQ2_XXS);
    FAIL("no exception");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("IQ2_XXS") != std::string::npos);
    CHECK(what.find("id 16") != std::string::npos);
    CHECK(what.find("Q4_0, Q4_1") != std::string::npos);
    CHECK(what.find("Q6_K") != std::string::npos);
  }
  try {
    call(static_cast<gguf::TensorType>(999));
    FAIL("no exception");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("unknown tensor type id 999") != std::string::npos);
  }
}

TEST_CASE("is_supported answers for the listed formats only") {
  CHECK(is_supported(gguf::TensorType::F32));
  CHECK(is_supported(gguf::TensorType::Q5_K));
  CHECK_FALSE(is_supported(gguf::TensorType::Q8_1));
  CHECK_FALSE(is_supported(gguf::TensorType::IQ4_NL));
  CHECK_FALSE(is_supported(gguf::TensorType::F64));
  CHECK_FALSE(is_supported(static_cast<gguf::TensorType>(999)));
  static_assert(is_supported(gguf::TensorType::BF16), "is_supported is usable at compile time");
}

TEST_CASE("format_names lists the formats in list order") {
  CHECK(format_names.size() == formats::size);
  CHECK(format_names.front() == "F32");
  CHECK(format_names.back() == "Q6_K");
}

TEST_CASE("dequantize_row refuses a source that is not whole blocks, or a destination of the wrong length") {
  std::vector<std::byte> src(2 * Q4_0::block_bytes + 1);
  std::vector<float> dst(64);
  CHECK_THROWS_WITH_AS(dequantize_row(gguf::TensorType::Q4_0, src, dst),
                       doctest::Contains("not a whole number of 18-byte blocks"), Error);
  src.resize(2 * Q4_0::block_bytes);
  std::vector<float> short_dst(63);
  CHECK_THROWS_WITH_AS(dequantize_row<Q4_0>(src, short_dst), doctest::Contains("destination has 63"),
                       Error);
  CHECK_NOTHROW(dequantize_row<Q4_0>(src, dst));
  CHECK_THROWS_AS(dequantize_row(gguf::TensorType::IQ1_S, src, dst), Error);
}

TEST_CASE("dequantize_row of no blocks writes nothing") {
  CHECK_NOTHROW(dequantize_row<Q6_K>({}, {}));
}
