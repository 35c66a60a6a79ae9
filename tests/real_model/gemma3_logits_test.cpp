// Teacher-forced logits of the CPU oracle on the real Gemma 3 270M Q4_K_M file
// (Q5_0, Q8_0, Q4_K and Q6_K tensors), against transformers' float32
// Gemma3ForCausalLM over the same dequantized weights: a short passage at
// every position, and a ~700-token text whose later positions lie beyond the
// 512-token sliding window (tests/data/reference/gemma3_{logits,long}.json).
#include <doctest/doctest.h>

#include <chrono>
#include <map>

#include "logit_agreement.hpp"
#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "reference_data.hpp"

using namespace pagoda;

namespace {

// Runs `ids` through the model in chunks (the logits of 262144-token rows are
// large) and hands every position's logits to `visit(position, row)`.
template <class Visit>
double run_teacher_forced(cpu::ReferenceModel& model, std::span<const std::int32_t> ids, Visit visit) {
  constexpr std::size_t chunk = 64;
  const std::size_t vocab = model.config().vocab_size;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t done = 0; done < ids.size(); done += chunk) {
    const std::size_t n = std::min(chunk, ids.size() - done);
    const auto logits = model.forward(ids.subspan(done, n), /*all_logits=*/true);
    for (std::size_t t = 0; t < n; ++t) visit(done + t, std::span(logits).subspan(t * vocab, vocab));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("Gemma 3: the file's hyperparameters and per-layer attention are read as the architecture states") {
  const auto file = gguf::MappedFile::open(test::require_gemma3_model());
  const auto c = model::read_config(file->gguf());
  CHECK(c.architecture.name == "gemma3");
  CHECK(c.n_layers == 18);
  CHECK(c.d_model == 640);
  CHECK(c.n_heads == 4);
  CHECK(c.n_kv_heads == 1);
  CHECK(c.head_dim == 256);
  CHECK(c.d_ffn == 2048);
  CHECK(c.vocab_size == 262144);
  CHECK(c.tied_output);
  CHECK(c.rope.layout == model::RopeLayout::neox);
  CHECK(c.embedding_scale == doctest::Approx(25.29822128));
  CHECK(c.attention_scale == doctest::Approx(1.0 / 16.0));
  REQUIRE(c.layers.size() == 18);
  for (std::uint32_t l = 0; l < 18; ++l) {
    const bool global = (l + 1) % 6 == 0;  // layers 5, 11, 17
    CAPTURE(l);
    CHECK(c.layers[l].sliding_window == (global ? 0u : 512u));
    CHECK(c.layers[l].rope.freq_base == (global ? 1000000.0f : 10000.0f));
  }
  const auto weights = model::bind_weights(file->gguf(), c);
  CHECK(weights.layers[0].q_norm != nullptr);
  CHECK(weights.layers[0].post_ffn_norm != nullptr);
  CHECK(weights.layers[0].q_bias == nullptr);
}

TEST_CASE("Gemma 3: the CPU oracle's logits agree with transformers (top-1 at >= 98% of positions)") {
  const auto reference = test::load_reference("gemma3_logits.json");
  const auto file = gguf::MappedFile::open(test::require_gemma3_model());
  const auto ids = reference["input_ids"].get<std::vector<std::int32_t>>();
  const auto spread_ids = reference["spread_ids"].get<std::vector<std::size_t>>();
  REQUIRE(ids.size() >= 64);

  cpu::ReferenceModel model(file->gguf(), 256);
  test::LogitAgreement top64, spread;
  const double seconds = run_teacher_forced(model, ids, [&](std::size_t pos, std::span<const float> row) {
    const auto& expected = reference["positions"][pos];
    top64.add_position(row, expected["top"]);
    for (std::size_t i = 0; i < spread_ids.size(); ++i)
      spread.add_value(row[spread_ids[i]], expected["spread"][i].get<double>());
  });
  MESSAGE("Gemma 3 teacher-forced over " << top64.positions << " positions: top-1 equal at " << top64.top1_equal
                                         << " (" << top64.top1_rate() * 100 << "%); |diff| over the reference top-64: max "
                                         << top64.max_abs_diff << ", mean " << top64.mean_abs_diff()
                                         << "; over " << spread_ids.size() << " ids spread over the vocabulary: max "
                                         << spread.max_abs_diff << ", mean " << spread.mean_abs_diff()
                                         << "; oracle prefill " << double(ids.size()) / seconds << " tokens/s on "
                                         << model.threads() << " threads");
  CHECK(top64.positions == ids.size());
  CHECK(top64.top1_rate() >= 0.98);
  // Both sides compute in float32 over the same dequantized weights (measured:
  // under 1e-4): anything beyond accumulated rounding means a different function.
  CHECK(top64.max_abs_diff < 2e-3);
  CHECK(spread.max_abs_diff < 2e-3);
}

TEST_CASE("Gemma 3: beyond the 512-token sliding window the oracle still agrees with transformers") {
  const auto reference = test::load_reference("gemma3_long.json");
  const auto file = gguf::MappedFile::open(test::require_gemma3_model());
  const auto ids = reference["input_ids"].get<std::vector<std::int32_t>>();
  const auto window = reference["sliding_window"].get<std::size_t>();
  REQUIRE(ids.size() > window + 100);
  std::map<std::size_t, const nlohmann::json*> expected;
  for (const auto& position : reference["positions"]) expected[position["pos"].get<std::size_t>()] = &position["top"];

  cpu::ReferenceModel model(file->gguf(), static_cast<std::uint32_t>(ids.size()));
  test::LogitAgreement before, beyond;
  (void)run_teacher_forced(model, ids, [&](std::size_t pos, std::span<const float> row) {
    if (const auto it = expected.find(pos); it != expected.end()) (pos < window ? before : beyond).add_position(row, *it->second);
  });
  MESSAGE("Gemma 3 over " << ids.size() << " tokens: before the window top-1 " << before.top1_rate() * 100
                          << "% (max |diff| " << before.max_abs_diff << "), beyond it " << beyond.top1_rate() * 100
                          << "% of " << beyond.positions << " positions (max |diff| " << beyond.max_abs_diff
                          << ", mean " << beyond.mean_abs_diff() << "); a model without the window: top-1 "
                          << reference["control_all_global_top1_beyond_window"].get<double>() * 100
                          << "%, max |diff| " << reference["control_all_global_max_abs_diff_beyond_window"].get<double>());
  CHECK(beyond.positions >= 100);
  CHECK(before.top1_rate() >= 0.98);
  CHECK(beyond.top1_rate() >= 0.98);
  // A model without the window differs by more than 1 (the reference script checks); ours must not.
  CHECK(beyond.max_abs_diff < 2e-3);
}
