// NaN or infinity in the weights is an error naming where it is, never an
// empty answer: a damaged norm weight is refused at load, and logits that are
// not finite stop generation, naming the position (and, in a step over several
// sequences, the sequence, with no item of the step sampled).
#include <doctest/doctest.h>

#include <array>
#include <cstring>
#include <limits>

#include "pagoda/core/error.hpp"
#include "pagoda/cpu/cpu_engine.hpp"
#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/quant/half.hpp"
#include "support/tiny_llama.hpp"

using namespace pagoda;

namespace {

// The tiny model's bytes with `value` written at byte `offset` of tensor `name`.
template <class T>
std::vector<std::byte> with_value(std::string_view name, std::size_t offset, T value) {
  auto bytes = test::tiny_llama_writer({}).to_bytes();
  const auto file = gguf::File::parse(bytes, "tiny.gguf");
  const auto& tensor = file.tensor(name);
  REQUIRE(offset + sizeof(T) <= tensor.byte_size);
  const auto at = static_cast<std::size_t>(tensor.bytes.data() - bytes.data()) + offset;
  std::memcpy(bytes.data() + at, &value, sizeof(T));
  return bytes;
}

constexpr std::uint16_t f16_nan = 0x7E00;

}  // namespace

TEST_CASE("a NaN or infinite norm weight is refused at load, naming the tensor and the element") {
  const auto nan_bytes = with_value("output_norm.weight", 4 * 3, std::numeric_limits<float>::quiet_NaN());
  const auto nan_file = gguf::File::parse(nan_bytes, "tiny.gguf");
  CHECK_THROWS_WITH_AS(cpu::ReferenceModel(nan_file, 32, 1),
                       doctest::Contains("tiny.gguf: norm weight 'output_norm.weight' holds nan at element 3"), Error);

  const auto inf_bytes = with_value("blk.1.ffn_norm.weight", 4 * 63, -std::numeric_limits<float>::infinity());
  const auto inf_file = gguf::File::parse(inf_bytes, "tiny.gguf");
  CHECK_THROWS_WITH_AS(cpu::CpuEngine{inf_file}, doctest::Contains("'blk.1.ffn_norm.weight' holds -inf at element 63"),
                       Error);

  // The same file untouched loads: the check looks at the values, not the tensors.
  const auto clean = test::tiny_llama_writer({}).to_bytes();
  CHECK_NOTHROW(cpu::ReferenceModel(gguf::File::parse(clean, "tiny.gguf"), 32, 1));
}

TEST_CASE("logits that are not finite stop generation with an error naming the position") {
  // Token 99's embedding row gets a NaN block scale (Q8_0: each 34-byte block
  // starts with its f16 scale; a 64-wide row is two blocks).
  const std::size_t row_bytes = 2 * 34;
  const auto bytes = with_value("token_embd.weight", 99 * row_bytes, f16_nan);
  const auto file = gguf::File::parse(bytes, "tiny.gguf");
  cpu::CpuEngine engine(file, {.context_size = 32});

  const std::vector<std::int32_t> clean_prompt{5, 17};
  const std::int32_t first = engine.prefill(clean_prompt);  // positions 0 and 1: finite
  CHECK(first >= 0);
  CHECK_THROWS_WITH_AS(engine.decode(99), doctest::Contains("the logits after position 2 are not finite"), Error);

  // In a prompt, the same token spoils the logits of the last position.
  engine.rewind(0);
  const std::vector<std::int32_t> spoiled{5, 99, 3, 8};
  CHECK_THROWS_WITH_AS(engine.prefill(spoiled), doctest::Contains("after position 3 are not finite"), Error);
}

TEST_CASE("a step with non-finite logits for one sequence names it and samples no item of the step") {
  const std::size_t row_bytes = 2 * 34;  // token 99's embedding row gets a NaN scale, as above
  const auto bytes = with_value("token_embd.weight", 99 * row_bytes, f16_nan);
  const auto file = gguf::File::parse(bytes, "tiny.gguf");
  const runtime::EngineOptions options{
      .context_size = 32,
      .sequences = 2,
      .sampling = {.temperature = 1.3f, .top_k = 0, .top_p = 1.0f, .min_p = 0.0f, .seed = 5},
      .cpu_threads = 1};
  cpu::CpuEngine engine(file, options);
  const std::vector<std::int32_t> clean{5, 17}, spoiled{5, 99};
  std::array<runtime::SequenceStep, 2> step{{{.sequence = 0, .tokens = clean}, {.sequence = 1, .tokens = spoiled}}};
  CHECK_THROWS_WITH_AS(engine.step(step), doctest::Contains("sequence 1: the logits after position 1 are not finite"),
                       Error);

  // Sequence 0 ran but drew nothing: replayed, it draws a fresh sampler's first token, not its second.
  cpu::CpuEngine alone(file, {.context_size = 32, .sampling = options.sampling, .cpu_threads = 1});
  const std::int32_t first_draw = alone.prefill(clean);
  alone.rewind(0);
  const std::int32_t second_draw = alone.prefill(clean);
  REQUIRE(first_draw != second_draw);
  engine.rewind_sequence(0, 0);
  CHECK(engine.prefill(clean) == first_draw);
}
