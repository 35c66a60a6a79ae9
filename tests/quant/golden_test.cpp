// Every format against golden vectors from gguf-py, an independent
// implementation (tests/quant/make_golden.py says how they were made): random
// block bytes, expected f32 results compared bit for bit.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <pagoda/quant/dequantize.hpp>
#include <pagoda/quant/format_list.hpp>

#include "golden_vectors.inc"
#include "random_blocks.hpp"

using namespace pagoda::quant;

namespace {

const golden::Case* golden_case(std::string_view format) {
  for (const auto& c : golden::cases)
    if (c.format == format) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("format F decodes gguf-py's golden vectors bit for bit", F, golden_id) {
  const golden::Case* c = golden_case(F::name);
  REQUIRE_MESSAGE(c != nullptr, "no golden vectors for " << F::name << ": run make_golden.py");
  REQUIRE(c->bytes.size() % F::block_bytes == 0);
  REQUIRE(c->expected_bits.size() == c->bytes.size() / F::block_bytes * F::block_elements);

  std::vector<float> out(c->expected_bits.size());
  dequantize_row<F>(std::as_bytes(c->bytes), out);
  std::size_t nonzero = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint32_t got = 0;
    std::memcpy(&got, &out[i], sizeof got);
    REQUIRE_MESSAGE(got == c->expected_bits[i], F::name << " element " << i << ": got " << out[i]);
    nonzero += out[i] != 0.0f;
  }
  CHECK(nonzero > out.size() / 2);  // the vectors exercise real values, not zeros
}
TEST_CASE_TEMPLATE_APPLY(golden_id, testing::as_tuple<formats>::type);

TEST_CASE("the golden vectors cover exactly the listed formats") {
  CHECK(std::size(golden::cases) == formats::size);
  for (const auto& c : golden::cases)
    CHECK_MESSAGE(std::find(format_names.begin(), format_names.end(), c.format) != format_names.end(),
                  c.format);
}
