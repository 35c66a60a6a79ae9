// Synthetic Qwen2- and Gemma 3-shaped models run through the CPU oracle, and
// what their architectures add to a llama block takes effect: the QKV biases
// change the logits, and a sliding-window layer forgets exactly the positions
// beyond its window.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/model/synthetic.hpp"
#include "synth_support.hpp"

using namespace pagoda;

namespace {

const std::vector<std::int32_t> prompt{1, 17, 300, 42, 511, 7, 7, 7, 250, 3, 99, 128};

std::vector<float> all_logits(const std::vector<std::byte>& bytes, const char* name) {
  const auto file = gguf::File::parse(bytes, name);
  cpu::ReferenceModel reference(file, 64, 2);
  return reference.forward(prompt, /*all_logits=*/true);
}

void check_sane(std::span<const float> logits, std::size_t vocab) {
  CHECK(std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); }));
  for (std::size_t t = 0; t < logits.size() / vocab; ++t) {
    const auto row = logits.subspan(t * vocab, vocab);
    const auto [lo, hi] = std::minmax_element(row.begin(), row.end());
    CHECK(*hi - *lo > 0.1f);
    CHECK(*hi - *lo < 100.0f);
  }
}

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, double(std::abs(a[i] - b[i])));
  return worst;
}

}  // namespace

TEST_CASE("a synthetic Qwen2 runs on the CPU oracle, and its QKV biases change the logits") {
  auto shape = model::parse_custom_shape("layers=2,d=256,heads=4,kv=2,ffn=512,vocab=1024,ctx=128,arch=qwen2,tied=1");
  auto bytes = model::synthetic_bytes(test::spec_of(shape, model::QuantRecipe::q4_k_m()));
  const auto with_bias = all_logits(bytes, "qwen2.gguf");
  check_sane(with_bias, shape.vocab);

  // The same file with every bias zeroed in place.
  {
    const auto file = gguf::File::parse(bytes, "qwen2.gguf");
    const auto config = model::read_config(file);
    CHECK(config.architecture.qkv_bias);
    CHECK(config.rope.layout == model::RopeLayout::neox);
    const auto weights = model::bind_weights(file, config);
    for (const auto& layer : weights.layers)
      for (const auto* bias : {layer.q_bias, layer.k_bias, layer.v_bias}) {
        REQUIRE(bias != nullptr);
        const auto offset = static_cast<std::size_t>(bias->bytes.data() - file.bytes().data());
        std::memset(bytes.data() + offset, 0, bias->bytes.size());
      }
  }
  const auto without_bias = all_logits(bytes, "qwen2-unbiased.gguf");
  CHECK(max_abs_diff(with_bias, without_bias) > 1e-2);
}

TEST_CASE("a synthetic Gemma 3 runs on the CPU oracle; its sliding layers forget exactly what lies beyond the window") {
  auto shape = model::parse_custom_shape("layers=6,d=256,heads=4,kv=1,head_dim=128,ffn=512,vocab=1024,ctx=128,arch=gemma3");
  shape.sliding_window = 4;
  const auto windowed = all_logits(model::synthetic_bytes(test::spec_of(shape, model::QuantRecipe::q4_k_m())), "w4");
  check_sane(windowed, shape.vocab);
  shape.sliding_window = 64;  // as long as the context: every layer sees everything
  const auto unwindowed = all_logits(model::synthetic_bytes(test::spec_of(shape, model::QuantRecipe::q4_k_m())), "w64");
  const std::size_t vocab = shape.vocab;
  for (std::size_t t = 0; t < prompt.size(); ++t) {
    const double diff = max_abs_diff(std::span(windowed).subspan(t * vocab, vocab),
                                     std::span(unwindowed).subspan(t * vocab, vocab));
    CAPTURE(t);
    if (t < 4) CHECK(diff == 0.0);  // the window holds the whole prefix: the same function
    else CHECK(diff > 1e-3);        // older tokens are masked in five of six layers
  }
}
