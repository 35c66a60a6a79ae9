// A tiny synthetic llama runs through the CPU oracle with finite logits that
// are not all equal, in the recipes the benchmarks use: the weight magnitudes
// keep activations in range through every layer.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "pagoda/cpu/reference_model.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/model/synthetic.hpp"
#include "synth_support.hpp"

using namespace pagoda;

TEST_CASE("a tiny synthetic llama gives finite, non-constant logits on the CPU reference, in every benchmark recipe") {
  for (const std::string recipe_name : {"Q4_0", "Q8_0", "Q4_K_M", "F16"}) {
    INFO(recipe_name);
    auto shape = test::tiny_llama_shape();
    shape.n_layers = 4;
    const auto bytes = model::synthetic_bytes(test::spec_of(shape, model::parse_recipe(recipe_name)));
    const auto file = gguf::File::parse(bytes, "tiny-synthetic.gguf");
    cpu::ReferenceModel reference(file, 64, 2);
    const std::vector<std::int32_t> tokens{1, 17, 300, 42, 511, 7, 7, 7};
    const auto logits = reference.forward(tokens, /*all_logits=*/true);
    REQUIRE(logits.size() == tokens.size() * shape.vocab);
    CHECK(std::all_of(logits.begin(), logits.end(), [](float v) { return std::isfinite(v); }));
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      const auto row = std::span(logits).subspan(t * shape.vocab, shape.vocab);
      const auto [lo, hi] = std::minmax_element(row.begin(), row.end());
      CHECK(*hi - *lo > 0.1f);   // not all equal: the model distinguishes tokens
      CHECK(*hi - *lo < 100.0f);  // and nothing blew up
    }
    // Different inputs give different outputs.
    const auto first = std::span(logits).first(shape.vocab);
    const auto second = std::span(logits).subspan(shape.vocab, shape.vocab);
    CHECK_FALSE(std::equal(first.begin(), first.end(), second.begin()));
  }
}
