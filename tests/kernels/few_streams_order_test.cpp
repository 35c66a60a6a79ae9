// The K order of the few-token product (kernels/streams_fragment_order.hpp)
// and its split of K (kernels/tuning/matmul_few_streams.hpp), on the host:
// every element of a row is fed to the tensor cores exactly once, four
// consecutive elements of one block at a time; the splits fill the GPU only
// where the tiles do not, and never leave a split empty.
#include <doctest/doctest.h>

#include <cstddef>
#include <vector>

#include "pagoda/kernels/streams_fragment_order.hpp"
#include "pagoda/kernels/tuning/matmul_few_streams.hpp"
#include "pagoda/quant/field_streams.hpp"
#include "quant/random_blocks.hpp"

using namespace pagoda;

namespace {

using StreamFormats = quant::testing::as_tuple<quant::field_stream_formats>::type;

}  // namespace

TEST_CASE_TEMPLATE_DEFINE("fragment_element<F> feeds every element of a row once, four of one block at a time", F,
                          fragment_order_case) {
  constexpr std::size_t blocks = 3;
  constexpr std::size_t cols = blocks * F::block_elements;
  constexpr std::size_t units = cols / kernels::fragment_unit_elements;
  std::vector<int> fed(cols, 0);
  for (std::size_t unit = 0; unit < units; ++unit)
    for (int c = 0; c < kernels::fragment_chunks_per_group; ++c) {
      const std::size_t first = kernels::fragment_element<F>(unit, c);
      REQUIRE(first + 4 <= cols);
      CHECK(first % 4 == 0);
      CHECK(first / F::block_elements == (first + 3) / F::block_elements);
      // A unit's weights lie in its own block (its eighth of a super-block's quants).
      CHECK(first / F::block_elements == unit * kernels::fragment_unit_elements / F::block_elements);
      for (std::size_t i = 0; i < 4; ++i) fed[first + i] += 1;
    }
  CHECK(fed == std::vector<int>(cols, 1));
}
TEST_CASE_TEMPLATE_APPLY(fragment_order_case, StreamFormats);

TEST_CASE_TEMPLATE_DEFINE("fragment_position<F> finds the unit and chunk that feed an element, and a run of eight "
                          "elements is two chunks of one unit",
                          F, fragment_position_case) {
  constexpr std::size_t cols = 3 * F::block_elements;
  for (std::size_t unit = 0; unit < cols / kernels::fragment_unit_elements; ++unit)
    for (int c = 0; c < kernels::fragment_chunks_per_group; ++c)
      for (std::size_t i = 0; i < 4; ++i) {
        const kernels::FragmentPosition at = kernels::fragment_position<F>(kernels::fragment_element<F>(unit, c) + i);
        CHECK(at.unit == unit);
        CHECK(at.chunk == c);
      }
  for (std::size_t run = 0; run < cols; run += 8) {
    const kernels::FragmentPosition first = kernels::fragment_position<F>(run);
    const kernels::FragmentPosition second = kernels::fragment_position<F>(run + 4);
    CHECK(second.unit == first.unit);
    CHECK(second.chunk != first.chunk);
    // A group of four units is 128 consecutive columns (X is staged a run at a time).
    CHECK(first.unit / kernels::fragment_units_per_group == run / kernels::few_streams_group_columns);
  }
}
TEST_CASE_TEMPLATE_APPLY(fragment_position_case, StreamFormats);

TEST_CASE("matmul_few_streams splits K only where the tiles fall short of two blocks an SM, in one wave") {
  constexpr int h100 = 132;
  CHECK(kernels::few_streams_splits(16, 32, h100) == 16);   // 4096 x 4096: 2 groups a split
  CHECK(kernels::few_streams_splits(24, 32, h100) == 11);   // q, k and v (6144 rows): 3 groups a split
  CHECK(kernels::few_streams_splits(112, 32, h100) == 2);   // gate and up
  CHECK(kernels::few_streams_splits(16, 112, h100) == 16);  // down: 7 groups a split
  CHECK(kernels::few_streams_splits(501, 32, h100) == 1);   // the 128256-row output matrix
  CHECK(kernels::few_streams_splits(1, 3, h100) == 3);      // never more splits than groups
  for (int tiles = 1; tiles < 300; tiles += 7)
    for (int groups = 1; groups < 120; groups += 5) {
      const int splits = kernels::few_streams_splits(tiles, groups, h100);
      const int each = (groups + splits - 1) / splits;
      CHECK((splits - 1) * each < groups);  // the last split has groups
      if (splits > 1) CHECK(tiles * splits <= 2 * h100);  // one wave
      CHECK(static_cast<std::size_t>(tiles) * static_cast<std::size_t>(splits) <=
            kernels::few_streams_split_blocks(static_cast<std::size_t>(tiles), h100));
    }
}
