// The graph's one-token step with attention in one launch
// (kernels::attention_decode_direct, EngineOptions::direct_attention_rows)
// against the split kernel and merge it replaces at short contexts: the same
// tokens fed to both give logits within the accuracy budget (not the same
// bits: the one-launch blocks sum their lane groups in another order); an
// engine that switches at the threshold gives the bits of one that never
// switches while both take the one launch, the bits of the split-only
// engine where every step is past the switch, its own bits again after a
// rewind, and says where it switches in its decode path. On the synthetic Llama-3.2-1B (head_dim 64), Qwen2.5-0.5B
// (biases, NeoX RoPE) and Gemma-3-270M (head_dim 256, sliding windows,
// post-norms).
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/device_copy.hpp"
#include "pagoda/runtime/engine.hpp"
#include "gpu/accuracy_budget.hpp"
#include "gpu/engine_inputs.hpp"
#include "gpu/synthetic_models.hpp"

using namespace pagoda;
using gpu_test::random_prompt;
using gpu_test::Run;
using gpu_test::run;
using gpu_test::same_bits;

namespace {

using Engine = runtime::Engine<mapping::DeviceCopy>;

runtime::EngineOptions options(std::uint32_t direct_rows) {
  runtime::EngineOptions o;
  o.context_size = 512;
  o.sampling.temperature = 0;  // greedy: tokens depend on the logits only
  o.decode = runtime::DecodePath::graph;
  o.direct_attention_rows = direct_rows;
  return o;
}


}  // namespace

TEST_CASE("graph decode step: attention in one launch gives the split kernel and merge's logits within the accuracy "
          "budget, and switches between its graphs at the threshold") {
  constexpr std::uint32_t switch_rows = 128;
  constexpr std::size_t prompt_length = 9, steps = 200;  // positions 9..208: past the switch
  for (const auto& path : {gpu_test::synthetic_1b(), gpu_test::synthetic_qwen2(), gpu_test::synthetic_gemma3_untied()}) {
    CAPTURE(path);
    const auto file = gguf::MappedFile::open(path);
    Engine split(*file, {}, options(0));
    Engine direct(*file, {}, options(512));  // one launch at every position of the context
    Engine switching(*file, {}, options(switch_rows));
    CHECK(split.decode_path().find("split and merged (two launches) at every position") != std::string::npos);
    CHECK(direct.decode_path().find("attention in one launch while a step sees at most 512 rows") !=
          std::string::npos);
    CHECK(switching.decode_path().find("at most 128 rows, split and merged (two launches) after") !=
          std::string::npos);

    const auto prompt = random_prompt(prompt_length, split.config().vocab_size, 11);
    const Run expected = run(split, prompt, steps);
    std::vector<std::int32_t> feed(expected.tokens.begin(), expected.tokens.end() - 1);
    const Run one_launch = run(direct, prompt, steps, &feed);
    const Run switched = run(switching, prompt, steps, &feed);
    for (const Run* got : {&one_launch, &switched}) {
      CHECK(got->tokens.front() == expected.tokens.front());
      gpu_test::Budget budget;
      std::size_t same_tokens = 0;
      for (std::size_t t = 0; t < steps; ++t) {
        budget.add(expected.logits[t], got->logits[t]);
        same_tokens += got->tokens[t + 1] == expected.tokens[t + 1];
      }
      MESSAGE((got == &one_launch ? direct : switching).decode_path()
              << ": against split and merged, " << budget.text() << "; greedy tokens " << same_tokens << "/"
              << steps);
      CHECK(budget.mean() <= 0.005);
      CHECK(budget.top1() >= 0.97);
    }
    // Below the switch the two take the same kernels: the same bits.
    std::size_t below = 0;
    for (std::size_t t = 0; t < steps && prompt_length + t + 1 <= switch_rows; ++t, ++below)
      CHECK(same_bits(switched.logits[t], one_launch.logits[t]));
    CHECK(below == switch_rows - prompt_length);
    // Back below the switch after a rewind: the one-launch graph again, its own bits.
    switching.rewind(0);
    const Run again = run(switching, prompt, 20, &feed);
    for (std::size_t t = 0; t < again.logits.size(); ++t) CHECK(same_bits(again.logits[t], switched.logits[t]));
    // A prompt past the switch: every step takes the split kernel and merge,
    // as the split-only engine's do, and the prefill is the same: the same bits.
    switching.rewind(0);
    split.rewind(0);
    const auto long_prompt = random_prompt(150, split.config().vocab_size, 12);
    const Run split_long = run(split, long_prompt, 8);
    const Run switched_long = run(switching, long_prompt, 8);
    CHECK(switched_long.tokens == split_long.tokens);
    for (std::size_t t = 0; t < split_long.logits.size(); ++t)
      CHECK(same_bits(switched_long.logits[t], split_long.logits[t]));
  }
}
