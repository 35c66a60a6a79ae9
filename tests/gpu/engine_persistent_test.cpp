// The persistent decode step (runtime/persistent_step.hpp, issue 15) against
// the graph of kernels it replaces: the same tokens fed to both engines give
// logits within the accuracy budget (the attention splits and the norms'
// block sizes differ, so sums are not in the same order) and the same greedy
// tokens, after a short prompt and after one long enough that every
// attention split and several tiles of each take part; the step's result
// does not depend on its grid (one block walking every item equals every
// block the GPU holds, bit for bit), which also shows the smallest and the
// largest co-resident grids finish; a grid that cannot be resident at once,
// or a layout the step cannot read, is refused with the reason. On the
// synthetic Llama-3.2-1B (Q4_0, tied output in GGUF blocks: the logits in
// their own launch), Qwen2.5-0.5B (Q4_K_M mix, QKV biases, NeoX RoPE) and
// Gemma-3-270M (post-norms, qk-norm, head_dim 256, GeGLU, sliding windows,
// an untied output in field streams: the logits inside the kernel), and on
// the real SmolLM2 and Gemma 3 270M files.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/device_copy.hpp"
#include "pagoda/runtime/engine.hpp"
#include "gpu/accuracy_budget.hpp"
#include "gpu/engine_inputs.hpp"
#include "gpu/synthetic_models.hpp"
#include "support/real_model.hpp"

using namespace pagoda;
using gpu_test::random_prompt;
using gpu_test::Run;
using gpu_test::run;
using gpu_test::same_bits;

namespace {

using Engine = runtime::Engine<mapping::DeviceCopy>;

runtime::EngineOptions options(runtime::DecodePath path, unsigned grid = 0, std::uint32_t context = 256) {
  runtime::EngineOptions o;
  o.context_size = context;
  o.sampling.temperature = 0;  // greedy: tokens depend on the logits only
  o.decode = path;
  o.persistent_grid = grid;
  return o;
}


void check_against_graph(const std::filesystem::path& path, const char* label) {
  const auto file = gguf::MappedFile::open(path);
  constexpr std::size_t steps = 40;
  // A short prompt (one split of one tile), then one of 700 tokens: 8
  // splits of 92+ rows, each over two tiles, and Gemma's 512-row windows.
  for (const std::size_t prompt_length : {std::size_t{9}, std::size_t{700}}) {
    CAPTURE(prompt_length);
    Engine graph(*file, {}, options(runtime::DecodePath::graph, 0, 1024));
    Engine persistent(*file, {}, options(runtime::DecodePath::persistent, 0, 1024));
    REQUIRE(persistent.persistent_decode());
    MESSAGE(label << ": " << persistent.decode_path());
    CHECK(mapping::to_string(persistent.placement()).find("decode: persistent") != std::string::npos);
    const auto prompt = random_prompt(prompt_length, graph.config().vocab_size, 5);
    const Run expected = run(graph, prompt, steps);
    // Teacher-forced with the graph's tokens, so a near tie cannot send the two apart.
    std::vector<std::int32_t> feed(expected.tokens.begin(), expected.tokens.end() - 1);
    const Run got = run(persistent, prompt, steps, &feed);
    CHECK(got.tokens.front() == expected.tokens.front());  // the same prefill
    gpu_test::Budget budget;
    std::size_t same = 0;
    for (std::size_t t = 0; t < steps; ++t) {
      budget.add(expected.logits[t], got.logits[t]);
      same += got.tokens[t + 1] == expected.tokens[t + 1];
    }
    MESSAGE(label << ", prompt of " << prompt_length << ": persistent vs graph step, " << budget.text()
                  << "; greedy tokens equal " << same << "/" << steps);
    CHECK(budget.mean() <= 0.005);
    CHECK(budget.top1() >= 0.97);
    // Its own greedy run, untied from the graph's tokens, gives the same
    // tokens where every teacher-forced step agreed (the run is deterministic).
    if (same == steps) {
      persistent.rewind(0);
      CHECK(run(persistent, prompt, steps).tokens == expected.tokens);
    }
  }
}

}  // namespace

TEST_CASE("persistent decode step: the graph path's logits within the accuracy budget and its greedy tokens, "
          "synthetic Llama-3.2-1B Q4_0") {
  check_against_graph(gpu_test::synthetic_1b(), "synthetic Llama-3.2-1B Q4_0");
}

TEST_CASE("persistent decode step: the graph path's logits within the accuracy budget and its greedy tokens, "
          "synthetic Qwen2.5-0.5B Q4_K_M (biases, NeoX RoPE)") {
  check_against_graph(gpu_test::synthetic_qwen2(), "synthetic Qwen2.5-0.5B Q4_K_M");
}

TEST_CASE("persistent decode step: the graph path's logits within the accuracy budget and its greedy tokens, "
          "synthetic Gemma-3-270M Q4_0 (post-norms, qk-norm, head_dim 256, GeGLU, windows, logits inside)") {
  check_against_graph(gpu_test::synthetic_gemma3_untied(), "synthetic Gemma-3-270M Q4_0, untied");
}

TEST_CASE("persistent decode step: the graph path's logits within the accuracy budget and its greedy tokens, the "
          "real SmolLM2 file (Q4_1, tied Q8_0 output)") {
  check_against_graph(test::require_default_model(), "SmolLM2-135M Q4_1");
}

TEST_CASE("persistent decode step: the graph path's logits within the accuracy budget and its greedy tokens, the "
          "real Gemma 3 270M file (Q5_0, Q8_0, Q4_K, Q6_K)") {
  check_against_graph(test::require_gemma3_model(), "Gemma 3 270M Q4_K_M");
}

TEST_CASE("persistent decode step: one block and every resident block give the same logits bit for bit; a grid "
          "that cannot be resident at once is refused") {
  const auto file = gguf::MappedFile::open(gpu_test::synthetic_1b());
  Engine full(*file, {}, options(runtime::DecodePath::persistent));
  Engine one(*file, {}, options(runtime::DecodePath::persistent, 1));
  const auto prompt = random_prompt(6, full.config().vocab_size, 9);
  const Run a = run(full, prompt, 6);
  const Run b = run(one, prompt, 6);
  CHECK(a.tokens == b.tokens);
  for (std::size_t t = 0; t < a.logits.size(); ++t) CHECK(same_bits(a.logits[t], b.logits[t]));
  // The limit itself: every block resident, as the default grid is.
  const unsigned limit = full.persistent_grid_limit();
  CHECK(one.persistent_grid_limit() == limit);
  MESSAGE("persistent grid limit: " << limit << " blocks; " << full.decode_path());
  CHECK(limit > 0);
  CHECK_THROWS_WITH_AS(Engine(*file, {}, options(runtime::DecodePath::persistent, limit + 1)),
                       doctest::Contains("cannot all be resident at once"), Error);
}

TEST_CASE("persistent decode step: weights staged in shared memory ahead of their items give the logits of weights "
          "read in place, bit for bit") {
  for (const auto& path : {gpu_test::synthetic_1b(), gpu_test::synthetic_qwen2(), gpu_test::synthetic_gemma3_untied()}) {
    CAPTURE(path);
    const auto file = gguf::MappedFile::open(path);
    runtime::EngineOptions ahead = options(runtime::DecodePath::persistent);
    ahead.persistent_prefetch = true;
    Engine staged(*file, {}, ahead);
    Engine unstaged(*file, {}, options(runtime::DecodePath::persistent));
    MESSAGE(staged.decode_path());
    CHECK(staged.decode_path().find("(0 items staged") == std::string::npos);  // sm_90: most products are
    const auto prompt = random_prompt(40, staged.config().vocab_size, 11);
    const Run a = run(staged, prompt, 8);
    const Run b = run(unstaged, prompt, 8);
    CHECK(a.tokens == b.tokens);
    for (std::size_t t = 0; t < a.logits.size(); ++t) CHECK(same_bits(a.logits[t], b.logits[t]));
  }
}

TEST_CASE("persistent decode step: a layout it cannot read is refused with the reason; auto keeps the graph and "
          "says why") {
  const auto file = gguf::MappedFile::open(gpu_test::synthetic_1b());
  runtime::EngineOptions gguf_layout = options(runtime::DecodePath::persistent);
  gguf_layout.layout = quant::LayoutChoice::gguf_blocks;
  CHECK_THROWS_WITH_AS(Engine(*file, {}, gguf_layout), doctest::Contains("gguf-blocks layout"), Error);
  Engine automatic(*file, {}, options(runtime::DecodePath::automatic));
  CHECK_FALSE(automatic.persistent_decode());
  CHECK(automatic.decode_path().find("auto") != std::string::npos);
}

TEST_CASE("persistent decode step: a profiled step says where its time went, per op kind, and still gives the same "
          "tokens") {
  const auto file = gguf::MappedFile::open(gpu_test::synthetic_1b());
  Engine plain(*file, {}, options(runtime::DecodePath::persistent));
  const auto prompt = random_prompt(100, plain.config().vocab_size, 3);
  const Run expected = run(plain, prompt, 8);
  for (const bool staged : {false, true}) {  // weights read in place, and staged ahead (EngineOptions::persistent_prefetch)
    CAPTURE(staged);
    runtime::EngineOptions profiled = options(runtime::DecodePath::persistent);
    profiled.persistent_profile = true;
    profiled.persistent_prefetch = staged;
    Engine engine(*file, {}, profiled);
    CHECK(run(engine, prompt, 8).tokens == expected.tokens);
    const std::string profile = engine.decode_profile();
    MESSAGE("synthetic Llama-3.2-1B Q4_0 at depth ~108, " << (staged ? "staged" : "in place") << ", " << profile);
    for (const char* op : {"qkv", "rope_kv", "attention_split", "attention_merge", "output", "gate_up", "down"})
      CHECK_MESSAGE(profile.find(std::string("\n  ") + op + ":") != std::string::npos, op);
  }
  CHECK_THROWS_AS((void)plain.decode_profile(), Error);  // not asked for
  Engine graph(*file, {}, options(runtime::DecodePath::graph));
  CHECK_THROWS_AS((void)graph.decode_profile(), Error);
}
