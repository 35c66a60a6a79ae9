// The whole model on the GPU against the CPU oracle: the real SmolLM2 and
// Gemma 3 270M files, a synthetic Llama-3.2-1B-shaped and a synthetic
// Qwen2.5-0.5B-shaped model, teacher-forced through both the prefill
// (tensor-core) path and the graph-replayed decode path, plus greedy
// generations; and identical logits under every mapping policy the machine
// supports.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/policy_list.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/runtime/engine.hpp"
#include "gpu/synthetic_models.hpp"
#include "real_model/reference_data.hpp"

using namespace pagoda;
using gpu_test::synthetic_1b;
using gpu_test::synthetic_qwen2;

namespace {

struct Agreement {
  std::size_t positions = 0, top1_equal = 0;
  double max_abs_diff = 0, sum_abs_diff = 0;
  std::size_t compared = 0;
  [[nodiscard]] double rate() const { return positions ? double(top1_equal) / double(positions) : 0; }
};

std::size_t argmax(std::span<const float> row) {
  return static_cast<std::size_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

void accumulate(Agreement& a, std::span<const float> gpu, std::span<const float> cpu) {
  a.positions++;
  if (argmax(gpu) == argmax(cpu)) a.top1_equal++;
  for (std::size_t i = 0; i < gpu.size(); ++i) {
    const double d = std::abs(double(gpu[i]) - cpu[i]);
    a.max_abs_diff = std::max(a.max_abs_diff, std::isfinite(d) ? d : 1e30);
    a.sum_abs_diff += d;
    a.compared++;
  }
}

std::string describe(const Agreement& a) {
  return std::to_string(a.top1_equal) + "/" + std::to_string(a.positions) + " top-1 equal, max |diff| " +
         std::to_string(a.max_abs_diff) + ", mean |diff| " + std::to_string(a.sum_abs_diff / double(a.compared));
}

// Two layers of Llama-3-8B's shape (d 4096, 32/8 heads, ffn 14336, vocab
// 128256), Q4_K_M: the prompt GEMM's tiles at the sizes pp512 runs, without
// 32 layers of CPU oracle. Written once per machine (PAGODA_SYNTH_8B_STACK reuses one).
std::filesystem::path synthetic_8b_stack() {
  if (const char* path = std::getenv("PAGODA_SYNTH_8B_STACK")) return path;
  const auto path = std::filesystem::temp_directory_path() / "pagoda-synth-llama-3-8b-2-layers-q4_k_m.gguf";
  if (!std::filesystem::exists(path)) {
    model::SyntheticShape shape = model::find_shape("llama-3-8b");
    shape.n_layers = 2;
    model::write_synthetic({.shape = shape, .recipe = model::QuantRecipe::q4_k_m(), .seed = 11}, path);
  }
  return path;
}

// Teacher forcing through prefill and through decode, both against the oracle.
// Device-copy's default layout is field streams; `layout` may ask for the GGUF one.
void check_against_oracle(const gguf::MappedFile& file, std::span<const std::int32_t> tokens, const char* label,
                          quant::LayoutChoice layout = quant::LayoutChoice::automatic, std::uint32_t max_batch = 64) {
  cpu::ReferenceModel oracle(file.gguf(), static_cast<std::uint32_t>(tokens.size() + 1));
  const auto expected = oracle.forward(tokens, /*all_logits=*/true);
  const std::size_t vocab = oracle.config().vocab_size;

  runtime::Engine<mapping::DeviceCopy> engine(file, {},
                                              {.context_size = 1024, .max_batch = max_batch, .layout = layout});
  MESSAGE(label << ": " << engine.placement().layouts << "; prefill: " << engine.placement().prefill_kernels);
  const auto prefill_logits = engine.forward_all_logits(tokens);
  Agreement prefill;
  for (std::size_t t = 0; t < tokens.size(); ++t)
    accumulate(prefill, std::span(prefill_logits).subspan(t * vocab, vocab),
               std::span(expected).subspan(t * vocab, vocab));

  engine.rewind();
  Agreement decode;
  (void)engine.prefill(tokens.first(1));
  accumulate(decode, engine.logits(), std::span(expected).first(vocab));
  for (std::size_t t = 1; t < tokens.size(); ++t) {
    (void)engine.decode(tokens[t]);
    accumulate(decode, engine.logits(), std::span(expected).subspan(t * vocab, vocab));
  }
  MESSAGE(std::string(label) << ": prefill path " << describe(prefill) << "; decode path (CUDA graph) " << describe(decode));
  CHECK(prefill.rate() >= 0.99);
  CHECK(decode.rate() >= 0.99);
}

}  // namespace

TEST_CASE("GPU logits agree with the CPU oracle on the real SmolLM2 file (top-1 >= 99%, prefill and decode)") {
  const auto file = gguf::MappedFile::open(test::require_default_model());
  const auto reference = test::load_reference("smollm2_logits.json");
  const auto tokens = reference["input_ids"].get<std::vector<std::int32_t>>();
  check_against_oracle(*file, tokens, "SmolLM2-135M Q4_1");
  check_against_oracle(*file, tokens, "SmolLM2-135M Q4_1, GGUF layout", quant::LayoutChoice::gguf_blocks);
}

TEST_CASE("GPU logits agree with the CPU oracle on a synthetic Llama-3.2-1B-shaped model") {
  const auto file = gguf::MappedFile::open(synthetic_1b());
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::int32_t> id(0, 128000);
  std::vector<std::int32_t> tokens(64);
  for (auto& t : tokens) t = id(rng);
  check_against_oracle(*file, tokens, "synthetic Llama-3.2-1B Q4_0");
}

TEST_CASE("GPU logits agree with the CPU oracle on a two-layer stack of Llama-3-8B's shape, a 130-token prompt in one "
          "chunk (the prompt GEMM's wide and narrow tiles)") {
  const auto file = gguf::MappedFile::open(synthetic_8b_stack());
  std::vector<std::int32_t> tokens(130);
  std::mt19937 rng(5);
  for (auto& t : tokens) t = static_cast<std::int32_t>(rng() % 128256);
  check_against_oracle(*file, tokens, "synthetic Llama-3-8B, 2 layers, Q4_K_M", quant::LayoutChoice::automatic, 512);
}

TEST_CASE("GPU logits agree with the CPU oracle on a synthetic Qwen2.5-0.5B-shaped model (QKV biases)") {
  const auto file = gguf::MappedFile::open(synthetic_qwen2());
  std::mt19937 rng(12);
  std::uniform_int_distribution<std::int32_t> id(0, 151000);
  std::vector<std::int32_t> tokens(64);
  for (auto& t : tokens) t = id(rng);
  check_against_oracle(*file, tokens, "synthetic Qwen2.5-0.5B Q4_K_M");
  check_against_oracle(*file, tokens, "synthetic Qwen2.5-0.5B Q4_K_M, GGUF layout", quant::LayoutChoice::gguf_blocks);
}

TEST_CASE("GPU logits agree with the CPU oracle on the real Gemma 3 270M file, beyond its sliding window") {
  const auto file = gguf::MappedFile::open(test::require_gemma3_model());
  // ~700 tokens: positions past 512 exercise the sliding-window layers, in
  // prefill chunks of 64 and in decode steps alike.
  const auto reference = test::load_reference("gemma3_long.json");
  const auto tokens = reference["input_ids"].get<std::vector<std::int32_t>>();
  REQUIRE(tokens.size() > reference["sliding_window"].get<std::size_t>() + 100);
  check_against_oracle(*file, tokens, "Gemma 3 270M Q4_K_M (Q5_0, Q8_0, Q4_K, Q6_K)");
}

namespace {

// The first `count` greedy tokens after `prompt`, from the CPU oracle.
std::vector<std::int32_t> oracle_greedy(const gguf::File& gguf, const std::vector<std::int32_t>& prompt,
                                        std::size_t count) {
  cpu::ReferenceModel oracle(gguf, 128);
  std::vector<std::int32_t> tokens;
  auto logits = oracle.forward(prompt);
  while (tokens.size() < count) {  // past an end-of-turn token too: `count` tokens either way
    const auto next = static_cast<std::int32_t>(argmax(logits));
    tokens.push_back(next);
    logits = oracle.forward(std::span(&next, 1));
  }
  return tokens;
}

// The same from the GPU engine (device-copy, graph-replayed decode); its decode rate goes to the log.
std::vector<std::int32_t> engine_greedy(const gguf::MappedFile& file, const std::vector<std::int32_t>& prompt,
                                        std::size_t count, const char* label) {
  runtime::Engine<mapping::DeviceCopy> engine(file, {}, {.context_size = 128, .sampling = {.temperature = 0.0f}});
  std::vector<std::int32_t> tokens{engine.prefill(prompt)};
  const auto start = std::chrono::steady_clock::now();
  while (tokens.size() < count) tokens.push_back(engine.decode(tokens.back()));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE(label << " greedy decode on the GPU: " << double(count - 1) / seconds << " tokens/s");
  return tokens;
}

}  // namespace

TEST_CASE("Gemma 3: a greedy generation on the GPU equals the CPU oracle's for the first 32 tokens") {
  const auto file = gguf::MappedFile::open(test::require_gemma3_model());
  const auto greedy = test::load_reference("gemma3_greedy.json");
  const auto prompt = greedy["prompt_ids"].get<std::vector<std::int32_t>>();
  const auto gpu_tokens = engine_greedy(*file, prompt, 32, "Gemma 3 270M");
  CHECK(gpu_tokens == oracle_greedy(file->gguf(), prompt, 32));
  const auto expected = greedy["generated_ids"].get<std::vector<std::int32_t>>();
  CHECK(std::equal(expected.begin(), expected.end() - (greedy["stopped"].get<bool>() ? 1 : 0), gpu_tokens.begin()));
}

TEST_CASE("greedy generations on the GPU equal the CPU oracle's for the first 32 tokens") {
  const auto file = gguf::MappedFile::open(test::require_default_model());
  const auto prompt = test::load_reference("smollm2_greedy.json")["prompt_ids"].get<std::vector<std::int32_t>>();
  CHECK(engine_greedy(*file, prompt, 32, "SmolLM2") == oracle_greedy(file->gguf(), prompt, 32));
}

TEST_CASE("logits are identical under every mapping policy the machine supports, in the GGUF layout") {
  const auto file = gguf::MappedFile::open(test::require_default_model());
  const std::vector<std::int32_t> tokens{1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308};
  std::vector<float> first;
  std::string first_policy;
  for_each_type(mapping::policies{}, [&](auto tag) {
    using Policy = typename decltype(tag)::type;
    try {
      runtime::Engine<Policy> engine(*file, {},
                                     {.context_size = 64, .max_batch = 16, .layout = quant::LayoutChoice::gguf_blocks});
      MESSAGE(mapping::to_string(engine.placement()));
      auto logits = engine.forward_all_logits(tokens);
      for (auto t : std::span(tokens).first(4)) (void)engine.decode(t);
      const auto decoded = engine.logits();
      logits.insert(logits.end(), decoded.begin(), decoded.end());
      if (first.empty()) {
        first = logits;
        first_policy = std::string(mapping::name_of(Policy::id));
      } else {
        CHECK_MESSAGE(logits == first, mapping::name_of(Policy::id) << " differs from " << first_policy);
      }
    } catch (const Error& refused) {
      // Expected refusals only: HmmDirect where pageableMemoryAccess = 0
      // (discrete H100s), HostRegistered where the file sits in the page
      // cache as large folios (cudaHostRegister hangs on those; see
      // mapping/page_cache.hpp). Each says why.
      const std::string reason = refused.what();
      MESSAGE(mapping::name_of(Policy::id) << " refused: " << reason);
      const bool expected = (Policy::id == mapping::PolicyId::hmm_direct && reason.find("pageableMemoryAccess") != std::string::npos) ||
                            (Policy::id == mapping::PolicyId::host_registered && reason.find("folio") != std::string::npos);
      CHECK_MESSAGE(expected, "unexpected refusal");
    }
  });
  CHECK(!first.empty());
}

TEST_CASE("field streams: prefill and decode logits agree with the GGUF layout's within rounding") {
  // Prefill on field streams takes the mma.sync GEMM (f16 operands, W decoded
  // in registers) where the GGUF layout takes the tile kernel (the same f16
  // operands, another summation order); the decode GEMVs sum in another order
  // too (whole units per lane): the same tokens, logits within rounding.
  const auto file = gguf::MappedFile::open(test::require_default_model());
  const std::vector<std::int32_t> tokens{1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308};
  const auto run = [&](quant::LayoutChoice layout) {
    runtime::Engine<mapping::DeviceCopy> engine(*file, {}, {.context_size = 64, .max_batch = 16, .layout = layout});
    std::vector<float> prefill = engine.forward_all_logits(tokens);
    std::vector<float> decoded;
    for (auto t : std::span(tokens).first(4)) {
      (void)engine.decode(t);
      const auto step = engine.logits();
      decoded.insert(decoded.end(), step.begin(), step.end());
    }
    return std::pair{prefill, decoded};
  };
  const auto [streams_prefill, streams_decode] = run(quant::LayoutChoice::field_streams);
  const auto [gguf_prefill, gguf_decode] = run(quant::LayoutChoice::gguf_blocks);
  const auto agree = [](const std::vector<float>& a, const std::vector<float>& b, std::size_t positions) {
    REQUIRE(a.size() == b.size());
    const std::size_t vocab = a.size() / positions;
    Agreement agreement;
    for (std::size_t s = 0; s < positions; ++s)
      accumulate(agreement, std::span(a).subspan(s * vocab, vocab), std::span(b).subspan(s * vocab, vocab));
    return agreement;
  };
  const Agreement prefill = agree(streams_prefill, gguf_prefill, tokens.size());
  const Agreement decode = agree(streams_decode, gguf_decode, 4);
  MESSAGE("field streams vs GGUF, prefill: " << describe(prefill) << "; decode: " << describe(decode));
  CHECK(prefill.top1_equal == tokens.size());
  CHECK(prefill.max_abs_diff < 0.05);
  CHECK(decode.top1_equal == 4);
  CHECK(decode.max_abs_diff < 0.05);
}

TEST_CASE("a layout the policy cannot offer is refused, naming the policy") {
  const auto file = gguf::MappedFile::open(test::require_default_model());
  CHECK_THROWS_WITH_AS((runtime::Engine<mapping::HugepageImport>(*file, {}, {.layout = quant::LayoutChoice::field_streams})),
                       doctest::Contains("hugepage-import policy reads the file's bytes in place"), Error);
}

TEST_CASE("a full context on the GPU is a clear error, not corruption") {
  const auto file = gguf::MappedFile::open(test::require_default_model());
  runtime::Engine<mapping::DeviceCopy> engine(*file, {}, {.context_size = 8});
  const std::vector<std::int32_t> six{1, 2, 3, 4, 5, 6};
  (void)engine.prefill(six);
  (void)engine.decode(7);
  (void)engine.decode(8);
  CHECK_THROWS_WITH_AS(engine.decode(9), doctest::Contains("context is full"), Error);
  CHECK(engine.position() == 8);
}
