// kernels::embedding<F> against the host decoder (quant::dequantize_row) bit
// for bit, for every listed format: random blocks, rows of 1, 3 and 17 blocks
// (dense formats also 1000 elements), token ids read from the device
// including the first and last rows, the table ending exactly at the end of
// its allocation, output poisoned first.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/embedding.cuh>
#include <pagoda/quant/dequantize.hpp>
#include <pagoda/quant/format_list.hpp>

#include "gpu/kernel_support.hpp"
#include "quant/random_blocks.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;

TEST_CASE_TEMPLATE_DEFINE("kernel embedding<F> gathers rows bit for bit equal to the host decoder", F,
                          embedding_id) {
  std::mt19937 rng(55);
  kt::Stream stream;
  const std::size_t vocab = 37;
  std::vector<std::size_t> row_blocks{1, 3, 17};
  if (F::block_elements == 1) row_blocks.push_back(1000);
  for (const std::size_t blocks : row_blocks)
    for (const std::size_t count : {1, 5, 33}) {
      const std::size_t dim = blocks * F::block_elements;
      const std::size_t row_bytes = blocks * F::block_bytes;
      CAPTURE(dim);
      CAPTURE(count);
      const std::vector<std::byte> table = quant::testing::random_blocks<F>(vocab * blocks, rng);
      std::uniform_int_distribution<std::int32_t> token(0, static_cast<std::int32_t>(vocab - 1));
      std::vector<std::int32_t> tokens(count);
      for (auto& t : tokens) t = token(rng);
      tokens[0] = static_cast<std::int32_t>(vocab - 1);
      if (count > 1) tokens[1] = 0;

      std::vector<float> want(count * dim);
      for (std::size_t t = 0; t < count; ++t)
        quant::dequantize_row<F>(std::span(table).subspan(static_cast<std::size_t>(tokens[t]) * row_bytes, row_bytes),
                                 std::span(want).subspan(t * dim, dim));
      kt::require_nonzero(want);

      const kt::DeviceArray<std::byte> device_table{std::span<const std::byte>(table)};
      const kt::DeviceArray<std::int32_t> device_tokens{std::span<const std::int32_t>(tokens)};
      kt::DeviceArray<float> out(count * dim);
      kernels::embedding<F>(device_table.get(), dim, device_tokens.get(), count, out.get(), stream);
      const std::vector<float> got = out.download();
      CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
    }
}
TEST_CASE_TEMPLATE_APPLY(embedding_id, quant::testing::as_tuple<quant::formats>::type);

TEST_CASE("kernel embedding refuses a partial block, naming the format") {
  kt::DeviceArray<std::byte> table(1024);
  kt::DeviceArray<std::int32_t> tokens(1);
  kt::DeviceArray<float> out(300);
  CHECK_THROWS_WITH_AS(kernels::embedding<quant::Q4_0>(table.get(), 33, tokens.get(), 1, out.get(), nullptr),
                       doctest::Contains("kernels::embedding<Q4_0>"), Error);
}
