// Teacher-forced logits of the CPU oracle on the real SmolLM2-135M-Instruct
// Q4_1 file, against transformers' float32 forward pass over the same
// dequantized weights (tests/data/reference/smollm2_logits*.json).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "reference_data.hpp"

using namespace pagoda;

namespace {

struct Agreement {
  std::size_t positions = 0;
  std::size_t top1_equal = 0;
  double max_abs_diff = 0;
  double sum_abs_diff = 0;
  std::size_t compared = 0;
};

}  // namespace

TEST_CASE("the CPU oracle's logits agree with transformers on the real model (top-1 at >= 98% of positions)") {
  const auto model_path = test::require_default_model();
  const auto reference = test::load_reference("smollm2_logits.json");
  const auto full = test::load_reference("smollm2_logits_full.json");
  const auto file = gguf::MappedFile::open(model_path);
  const auto input_ids = reference["input_ids"].get<std::vector<std::int32_t>>();
  REQUIRE(input_ids.size() >= 64);

  cpu::ReferenceModel model(file->gguf(), 256);
  const auto start = std::chrono::steady_clock::now();
  const auto logits = model.forward(input_ids, /*all_logits=*/true);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t vocab = model.config().vocab_size;
  REQUIRE(logits.size() == input_ids.size() * vocab);

  Agreement top64;
  for (const auto& position : reference["positions"]) {
    const auto pos = position["pos"].get<std::size_t>();
    const float* row = logits.data() + pos * vocab;
    const auto ours_top1 = std::max_element(row, row + vocab) - row;
    const auto& top = position["top"];
    top64.positions++;
    if (ours_top1 == top[0][0].get<std::int64_t>()) top64.top1_equal++;
    for (const auto& entry : top) {
      const double diff = std::abs(row[entry[0].get<std::size_t>()] - entry[1].get<double>());
      top64.max_abs_diff = std::max(top64.max_abs_diff, diff);
      top64.sum_abs_diff += diff;
      top64.compared++;
    }
  }

  Agreement whole_vocab;
  for (const auto& position : full["positions"]) {
    const auto pos = position["pos"].get<std::size_t>();
    const auto expected = test::decode_float32_base64(position["logits_b64"].get<std::string>());
    REQUIRE(expected.size() == vocab);
    for (std::size_t i = 0; i < vocab; ++i) {
      const double diff = std::abs(logits[pos * vocab + i] - expected[i]);
      whole_vocab.max_abs_diff = std::max(whole_vocab.max_abs_diff, diff);
      whole_vocab.sum_abs_diff += diff;
      whole_vocab.compared++;
    }
  }

  const double top1_rate = double(top64.top1_equal) / double(top64.positions);
  MESSAGE("teacher-forced over " << top64.positions << " positions: top-1 equal at " << top64.top1_equal << " ("
                                 << top1_rate * 100 << "%); |diff| over each position's reference top-64: max "
                                 << top64.max_abs_diff << ", mean " << top64.sum_abs_diff / double(top64.compared)
                                 << "; over the full vocabulary at " << full["positions"].size() << " positions: max "
                                 << whole_vocab.max_abs_diff << ", mean "
                                 << whole_vocab.sum_abs_diff / double(whole_vocab.compared) << "; oracle prefill "
                                 << double(input_ids.size()) / seconds << " tokens/s on " << model.threads()
                                 << " threads");
  CHECK(top64.positions >= 64);
  CHECK(top1_rate >= 0.98);
  // Both sides compute in float32 over the same dequantized weights (measured:
  // under 1e-4): anything beyond accumulated rounding means a different function.
  CHECK(top64.max_abs_diff < 2e-3);
  CHECK(whole_vocab.max_abs_diff < 2e-3);
}
