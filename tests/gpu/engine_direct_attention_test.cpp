// The graph's one-token step with attention in one launch
// (kernels::attention_decode_direct, EngineOptions::direct_attention_rows)
// against the split kernel and merge it replaces at short contexts: the same
// tokens fed to both give the same logits bit for bit while one split holds
// every row (at most 64: the merge of one split is the same division), within
// the accuracy budget after, and the same greedy tokens; the engine switches
// between its two graphs at the threshold and back after a rewind, and says
// where in its decode path. On the synthetic Llama-3.2-1B (head_dim 64),
// Qwen2.5-0.5B (biases, NeoX RoPE) and Gemma-3-270M (head_dim 256, sliding
// windows, post-norms).
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/kernels/tuning/attention_decode.hpp"
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

runtime::EngineOptions options(std::uint32_t direct_rows) {
  runtime::EngineOptions o;
  o.context_size = 512;
  o.sampling.temperature = 0;  // greedy: tokens depend on the logits only
  o.decode = runtime::DecodePath::graph;
  o.direct_attention_rows = direct_rows;
  return o;
}

struct Run {
  std::vector<std::int32_t> tokens;  // the prompt's answer, then each step's
  std::vector<std::vector<float>> logits;
};
Run run(Engine& engine, const std::vector<std::int32_t>& prompt, std::size_t steps,
        const std::vector<std::int32_t>* feed = nullptr) {
  Run r;
  r.tokens.push_back(engine.prefill(prompt));
  for (std::size_t t = 0; t < steps; ++t) {
    const std::int32_t in = feed != nullptr ? (*feed)[t] : r.tokens.back();
    r.tokens.push_back(engine.decode(in));
    r.logits.push_back(engine.logits());
  }
  return r;
}

}  // namespace

TEST_CASE("graph decode step: attention in one launch gives the split kernel and merge's logits, bit for bit while "
          "one split holds every row, within the accuracy budget after") {
  constexpr std::size_t prompt_length = 9, steps = 200;  // positions 9..208: past the default switch at 128 rows
  for (const auto& path : {gpu_test::synthetic_1b(), gpu_test::synthetic_qwen2(), gpu_test::synthetic_gemma3_untied()}) {
    CAPTURE(path);
    const auto file = gguf::MappedFile::open(path);
    Engine split(*file, {}, options(0));
    Engine direct(*file, {}, options(512));  // one launch at every position of the context
    Engine switching(*file, {}, options(kernels::tuning::attention_direct_rows));
    CHECK(split.decode_path().find("split and merged (two launches) at every position") != std::string::npos);
    CHECK(direct.decode_path().find("attention in one launch while a step sees at most 512 rows") !=
          std::string::npos);
    MESSAGE(switching.decode_path());
    CHECK(switching.decode_path().find("split and merged (two launches) after") != std::string::npos);

    const auto prompt = random_prompt(prompt_length, split.config().vocab_size, 11);
    const Run expected = run(split, prompt, steps);
    std::vector<std::int32_t> feed(expected.tokens.begin(), expected.tokens.end() - 1);
    for (Engine* engine : {&direct, &switching}) {
      const Run got = run(*engine, prompt, steps, &feed);
      CHECK(got.tokens.front() == expected.tokens.front());
      gpu_test::Budget budget;
      std::size_t same_tokens = 0, bits_checked = 0, bits_equal = 0;
      for (std::size_t t = 0; t < steps; ++t) {
        const std::size_t rows = prompt_length + t + 1;  // the step at position 9 + t sees rows 0..9 + t
        if (rows <= 64) {
          ++bits_checked;
          bits_equal += same_bits(got.logits[t], expected.logits[t]);
        }
        budget.add(expected.logits[t], got.logits[t]);
        same_tokens += got.tokens[t + 1] == expected.tokens[t + 1];
      }
      MESSAGE(engine->decode_path() << ": against split and merged, " << budget.text() << "; bit-equal "
                                    << bits_equal << "/" << bits_checked << " steps at <= 64 rows; greedy tokens "
                                    << same_tokens << "/" << steps);
      CHECK(bits_checked == 55);
      CHECK(bits_equal == bits_checked);
      CHECK(budget.mean() <= 0.005);
      CHECK(budget.top1() >= 0.97);
    }
    // Back below the switch after a rewind: the one-launch graph again, the same bits as before.
    switching.rewind(0);
    const Run again = run(switching, prompt, 20, &feed);
    for (std::size_t t = 0; t < again.logits.size(); ++t) CHECK(same_bits(again.logits[t], expected.logits[t]));
  }
}
