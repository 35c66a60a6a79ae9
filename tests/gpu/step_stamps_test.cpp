// Step stamps (kernels/step_stamps.hpp): an ordinary build has none and its
// enable() says how to get them; a profiling build (-DPAGODA_STEP_STAMPS=ON)
// stamps every block of a decode GEMV launch once per event, in order.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <random>
#include <span>
#include <vector>

#include <pagoda/core/error.hpp>
#include <pagoda/kernels/gemv_streams.cuh>
#include <pagoda/kernels/step_stamps.hpp>
#include <pagoda/quant/field_streams.hpp>

#include "gpu/kernel_support.hpp"

using namespace pagoda;
namespace kt = pagoda::kernel_test;
namespace stamps = pagoda::kernels::step_stamps;

TEST_CASE("step stamps: none in an ordinary build (enable says how to get them); every block of a GEMV, in order, "
          "in a profiling build") {
  if (!stamps::compiled_in()) {
    CHECK_THROWS_WITH_AS(stamps::enable(16), doctest::Contains("-DPAGODA_STEP_STAMPS=ON"), Error);
    return;
  }
  constexpr std::size_t rows = 1100, cols = 1024;
  std::mt19937 rng(7);
  const std::vector<std::byte> gguf = kt::synthetic_weights<quant::Q4_0>(rows, cols, 11);
  std::vector<std::byte> streams(gguf.size());
  quant::pack_field_streams<quant::Q4_0>(gguf.data(), streams.data(), rows, cols);
  const kt::DeviceArray<std::byte> weights{std::span<const std::byte>(streams)};
  const kt::DeviceArray<float> x{std::span<const float>(kt::random_normal(cols, rng))};
  kt::DeviceArray<float> y(rows);
  kt::Stream stream;
  stamps::enable(1 << 16);
  stamps::reset();
  kernels::gemv_streams<quant::Q4_0>(weights.get(), rows, cols, x.get(), y.get(), nullptr,
                                     kernels::DeviceInfo::current(), stream);
  stream.sync();
  const stamps::Read read = stamps::read();
  CHECK(read.dropped == 0);
  REQUIRE_FALSE(read.stamps.empty());
  const std::uint32_t grid = read.stamps.front().grid;
  std::map<std::uint32_t, std::vector<kernels::StepStamp>> by_block;
  for (const auto& s : read.stamps) {
    CHECK(s.tag == kernels::StampTag::gemv);
    CHECK(s.grid == grid);
    CHECK(s.detail == rows);
    CHECK(s.cols == cols);
    by_block[s.block].push_back(s);
  }
  CHECK(by_block.size() == grid);
  for (auto& [block, events] : by_block) {
    CAPTURE(block);
    REQUIRE(events.size() == 4);
    std::ranges::sort(events, {}, [](const kernels::StepStamp& s) { return static_cast<int>(s.event); });
    for (int e = 0; e < 4; ++e) CHECK(static_cast<int>(events[e].event) == e);
    for (int e = 1; e < 4; ++e) CHECK(events[e].time_ns >= events[e - 1].time_ns);
    CHECK(events[0].sm == events[3].sm);
  }
}
