// NaN in the weights stops GPU generation with an error naming the position,
// as it stops the CPU engine (tests/cpu/non_finite_test.cpp), never an empty
// or arbitrary answer: the sampler notes a non-finite logit as it reads the
// logits (kernels::Sampler::sample), and EngineCore fails on the note when it
// reads the sampled token.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/device_copy.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/runtime/engine.hpp"
#include "support/scratch_dir.hpp"

using namespace pagoda;

namespace {

constexpr std::int32_t spoiled_token = 99;

// A small synthetic llama (head size 64, untied output so that only the
// spoiled token's row is NaN) whose embedding row of `spoiled_token` has a
// NaN block scale: Q4_0 and Q8_0 blocks start with their f16 scale.
std::filesystem::path model_with_nan_row(const std::filesystem::path& dir) {
  const auto path = dir / "nan-row.gguf";
  const model::SyntheticSpec spec{
      .shape = model::parse_custom_shape("layers=2,d=256,heads=4,kv=2,ffn=512,vocab=4096,ctx=256,tied=0"),
      .recipe = model::QuantRecipe::uniform(gguf::TensorType::Q4_0),
      .seed = 5};
  model::write_synthetic(spec, path);
  std::uint64_t at = 0;
  {
    const auto file = gguf::MappedFile::open(path);
    const gguf::TensorInfo& table = file->gguf().tensor("token_embd.weight");
    REQUIRE((table.type == gguf::TensorType::Q4_0 || table.type == gguf::TensorType::Q8_0));
    at = file->gguf().data_offset() + table.data_offset + static_cast<std::uint64_t>(spoiled_token) * table.row_bytes();
  }
  const std::uint16_t f16_nan = 0x7E00;
  std::fstream out(path, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(static_cast<std::streamoff>(at));
  out.write(reinterpret_cast<const char*>(&f16_nan), sizeof(f16_nan));
  REQUIRE(out.good());
  return path;
}

}  // namespace

TEST_CASE("a NaN logit stops GPU generation with an error naming the position, on every sampling path") {
  const test::ScratchDir dir;
  const auto file = gguf::MappedFile::open(model_with_nan_row(dir.path()));
  for (const runtime::SamplingParams& params :
       {runtime::SamplingParams{}, runtime::SamplingParams{.temperature = 0.0f},
        runtime::SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 0.9f, .min_p = 0.0f},
        runtime::SamplingParams{.repeat_penalty = 1.2f}}) {
    CAPTURE(params.temperature);
    CAPTURE(params.top_k);
    runtime::Engine<mapping::DeviceCopy> engine(*file, {}, {.context_size = 64, .sampling = params});

    const std::vector<std::int32_t> clean{5, 17};
    CHECK(engine.prefill(clean) >= 0);  // positions 0 and 1: finite
    CHECK_THROWS_WITH_AS(engine.decode(spoiled_token), doctest::Contains("the logits after position 2 are not finite"),
                         Error);
    // The decode step again, now replayed from its captured graph.
    engine.rewind(2);
    CHECK_THROWS_WITH_AS(engine.decode(spoiled_token), doctest::Contains("after position 2 are not finite"), Error);

    // In a prompt, the token spoils the logits of the last position; the
    // clean prompt afterwards is fine again (the note lasts one step).
    engine.rewind(0);
    const std::vector<std::int32_t> spoiled{5, spoiled_token, 3, 8};
    CHECK_THROWS_WITH_AS(engine.prefill(spoiled), doctest::Contains("after position 3 are not finite"), Error);
    engine.rewind(0);
    CHECK(engine.prefill(clean) >= 0);
    CHECK(engine.decode(7) >= 0);
  }
}
