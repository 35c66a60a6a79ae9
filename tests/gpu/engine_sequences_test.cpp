// Several sequences in one CUDA engine (runtime/sequence_step.hpp): the
// batched step's logits against the same tokens run one sequence at a time
// (the decode GEMVs and the sequence's own graph), within the accuracy
// budget; prompts in a step run as prefills of their own sequences, bit for
// bit as a lone engine runs them; bad steps change nothing. On the synthetic
// Llama-3.2-1B (Q4_0 everywhere: every product on matmul_mma_few) and
// Qwen2.5-0.5B (Q4_K_M with QKV biases and a tied output matrix that stays
// in GGUF blocks: the batched step's tile-kernel products too).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <span>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/device_copy.hpp"
#include "pagoda/runtime/engine.hpp"
#include "gpu/accuracy_budget.hpp"
#include "gpu/engine_inputs.hpp"
#include "gpu/synthetic_models.hpp"

using namespace pagoda;
using gpu_test::random_prompt;
using gpu_test::same_bits;

namespace {

using Engine = runtime::Engine<mapping::DeviceCopy>;

// Greedy: the tokens depend on the logits only, not on a sampler's step.
runtime::SamplingParams greedy() {
  runtime::SamplingParams params;
  params.temperature = 0;
  return params;
}

// Four sequences: their prompts in one step, then `steps` steps in which all
// four decode together (greedy); every logit row kept. Then each sequence
// again, alone, in a one-sequence engine fed the same tokens.
void check_batched_against_single(const std::filesystem::path& path, const char* label) {
  const auto file = gguf::MappedFile::open(path);
  constexpr std::uint32_t sequences = 4;
  constexpr std::size_t steps = 16;
  Engine batched(*file, {}, {.context_size = 256, .sequences = sequences, .sampling = greedy()});
  const std::uint32_t vocab = batched.config().vocab_size;

  std::vector<std::vector<std::int32_t>> prompts;
  for (std::uint32_t s = 0; s < sequences; ++s) prompts.push_back(random_prompt(5 + 7 * s, vocab, 11 + s));
  std::vector<runtime::SequenceStep> items;
  for (std::uint32_t s = 0; s < sequences; ++s) items.push_back({s, prompts[s]});
  batched.step(items);
  std::vector<std::vector<float>> prompt_logits;
  std::vector<std::vector<std::int32_t>> fed(sequences);
  for (std::uint32_t s = 0; s < sequences; ++s) {
    CHECK(batched.sequence_position(s) == prompts[s].size());
    fed[s].push_back(items[s].next);
  }
  // Only the last prompt's logits are still held (the prefills share one buffer).
  CHECK_THROWS_AS((void)batched.sequence_logits(0), Error);
  const std::vector<float> last_prompt_logits = batched.sequence_logits(sequences - 1);

  std::vector<std::vector<std::vector<float>>> step_logits(sequences);  // [sequence][step]
  for (std::size_t t = 0; t < steps; ++t) {
    std::vector<runtime::SequenceStep> decode;
    for (std::uint32_t s = 0; s < sequences; ++s) decode.push_back({s, std::span(&fed[s].back(), 1)});
    batched.step(decode);
    for (std::uint32_t s = 0; s < sequences; ++s) {
      step_logits[s].push_back(batched.sequence_logits(s));
      fed[s].push_back(decode[s].next);
    }
  }

  Engine single(*file, {}, {.context_size = 256, .sampling = greedy()});
  gpu_test::Budget budget;
  std::size_t same_tokens = 0;
  for (std::uint32_t s = 0; s < sequences; ++s) {
    CAPTURE(s);
    single.rewind(0);
    CHECK(single.prefill(prompts[s]) == fed[s][0]);
    if (s == sequences - 1) CHECK(same_bits(single.logits(), last_prompt_logits));  // the same prefill, bit for bit
    for (std::size_t t = 0; t < steps; ++t) {
      same_tokens += single.decode(fed[s][t]) == fed[s][t + 1];
      budget.add(single.logits(), step_logits[s][t]);
    }
  }
  MESSAGE(label << ": batched step vs one sequence at a time, " << budget.text() << "; greedy tokens equal "
                << same_tokens << "/" << sequences * steps);
  CHECK(budget.mean() <= 0.005);
  CHECK(budget.top1() >= 0.97);
}

}  // namespace

TEST_CASE("a batched step's logits are one sequence's at a time within the accuracy budget: synthetic Llama-3.2-1B "
          "Q4_0") {
  check_batched_against_single(gpu_test::synthetic_1b(), "synthetic Llama-3.2-1B Q4_0");
}

TEST_CASE("a batched step's logits are one sequence's at a time within the accuracy budget: synthetic Qwen2.5-0.5B "
          "Q4_K_M (biases, tied output in GGUF blocks)") {
  check_batched_against_single(gpu_test::synthetic_qwen2(), "synthetic Qwen2.5-0.5B Q4_K_M");
}

TEST_CASE("a step mixing a prompt and decodes, 17 sequences (a forward of 16, then one alone), and bad steps "
          "that change nothing") {
  const auto file = gguf::MappedFile::open(gpu_test::synthetic_1b());
  constexpr std::uint32_t sequences = 17;
  Engine engine(*file, {}, {.context_size = 64, .sequences = sequences});
  const std::uint32_t vocab = engine.config().vocab_size;
  std::vector<std::vector<std::int32_t>> prompts;
  std::vector<runtime::SequenceStep> items;
  for (std::uint32_t s = 0; s < sequences; ++s) prompts.push_back(random_prompt(3, vocab, 100 + s));
  for (std::uint32_t s = 0; s < sequences; ++s) items.push_back({s, prompts[s]});
  engine.step(items);
  // Sixteen decode while sequence 16 takes a longer prompt: 16 rows in one forward.
  const std::vector<std::int32_t> more = random_prompt(9, vocab, 7);
  std::vector<std::int32_t> last(sequences);
  for (std::uint32_t s = 0; s < sequences; ++s) last[s] = items[s].next;
  std::vector<runtime::SequenceStep> mixed;
  for (std::uint32_t s = 0; s < 16; ++s) mixed.push_back({s, std::span(&last[s], 1)});
  mixed.push_back({16, more});
  engine.step(mixed);
  for (std::uint32_t s = 0; s < 16; ++s) CHECK(engine.sequence_position(s) == 4);
  CHECK(engine.sequence_position(16) == 3 + more.size());
  // All 17 decode: a forward of 16 and a lone one.
  for (std::uint32_t s = 0; s < sequences; ++s) last[s] = mixed[s].next;
  std::vector<runtime::SequenceStep> all;
  for (std::uint32_t s = 0; s < sequences; ++s) all.push_back({s, std::span(&last[s], 1)});
  engine.step(all);
  for (const auto& item : all) CHECK((item.next >= 0 && static_cast<std::uint32_t>(item.next) < vocab));

  const auto positions = [&] {
    std::vector<std::uint32_t> p;
    for (std::uint32_t s = 0; s < sequences; ++s) p.push_back(engine.sequence_position(s));
    return p;
  };
  const auto before = positions();
  const std::int32_t token = 1;
  std::vector<runtime::SequenceStep> twice{{0, std::span(&token, 1)}, {0, std::span(&token, 1)}};
  CHECK_THROWS_AS(engine.step(twice), Error);
  std::vector<runtime::SequenceStep> outside{{1, std::span(&token, 1)}, {sequences, std::span(&token, 1)}};
  CHECK_THROWS_AS(engine.step(outside), Error);
  std::vector<runtime::SequenceStep> empty{{1, std::span(&token, 1)}, {2, {}}};
  CHECK_THROWS_AS(engine.step(empty), Error);
  const std::vector<std::int32_t> too_long = random_prompt(64, vocab, 3);
  std::vector<runtime::SequenceStep> full{{1, std::span(&token, 1)}, {2, too_long}};
  CHECK_THROWS_AS(engine.step(full), Error);
  CHECK(positions() == before);

  engine.rewind_sequence(3, 1);
  CHECK(engine.sequence_position(3) == 1);
  CHECK(engine.sequence_position(4) == before[4]);
  CHECK_THROWS_AS(engine.rewind_sequence(sequences, 0), Error);
}
