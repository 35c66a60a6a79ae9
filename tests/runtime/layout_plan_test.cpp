// runtime::plan_layouts: which layout each matrix gets, from the user's choice
// and what the mapping policy offers, with a reason for every matrix that
// stays in GGUF blocks, and an error (not a silent downgrade) when field
// streams are forced on a policy that cannot offer them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/mapping/placement_report.hpp"
#include "pagoda/model/config.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/model/weights.hpp"
#include "pagoda/runtime/layout_plan.hpp"
#include "synth/synth_support.hpp"

using namespace pagoda;
using quant::LayoutChoice;
using quant::WeightLayout;

namespace {

struct TinyModel {
  std::vector<std::byte> bytes;
  gguf::File file;
  model::ModelConfig config;
  model::ModelWeights weights;
};

std::unique_ptr<TinyModel> tiny_model(const model::QuantRecipe& recipe, bool tied = false) {
  auto shape = test::tiny_llama_shape();
  shape.tied_output = tied;
  const auto writer = model::synthetic_writer(test::spec_of(shape, recipe), nullptr);
  auto bytes = writer.to_bytes();
  auto file = gguf::File::parse(bytes, "tiny.gguf");
  auto config = model::read_config(file);
  auto weights = model::bind_weights(file, config);
  return std::unique_ptr<TinyModel>(
      new TinyModel{std::move(bytes), std::move(file), std::move(config), std::move(weights)});
}

// Where a policy would put each tensor: 32-aligned, as in the file (or off by `shift`).
auto placed(std::uintptr_t shift = 0) {
  return [shift](const gguf::TensorInfo& t) {
    return reinterpret_cast<const std::byte*>(std::uintptr_t{1} << 20) + t.data_offset + shift;
  };
}

std::size_t count(const runtime::LayoutPlan& plan, WeightLayout layout) {
  return static_cast<std::size_t>(
      std::ranges::count_if(plan.layout, [&](const auto& entry) { return entry.second == layout; }));
}

}  // namespace

TEST_CASE("auto under a policy that offers field streams packs every layer matrix, not the embedding table") {
  const auto m = tiny_model(model::parse_recipe("Q4_0"));
  const auto plan = runtime::plan_layouts(m->weights, LayoutChoice::automatic, true, "device-copy", placed());
  const std::size_t matrices = 7 * m->weights.layers.size() + 1;  // + output
  CHECK(count(plan, WeightLayout::field_streams) == matrices);
  CHECK(plan.to_repack.size() == matrices);
  CHECK(plan.of(*m->weights.token_embedding) == WeightLayout::gguf_blocks);
  REQUIRE(plan.kept_reasons.size() == 1);
  CHECK(plan.kept_reasons[0].starts_with("token_embd.weight: the embedding table"));

  mapping::PlacementReport report;
  plan.describe(report);
  CHECK(report.layouts.find("field-streams " + std::to_string(matrices)) != std::string::npos);
  CHECK(report.layouts.find("gguf-blocks because the embedding table") != std::string::npos);
  CHECK(report.tensor_layouts.size() == matrices + 1);
}

TEST_CASE("a tied output stays in GGUF blocks with the embedding table it is") {
  const auto m = tiny_model(model::parse_recipe("Q4_0"), true);
  REQUIRE(m->weights.output == m->weights.token_embedding);
  const auto plan = runtime::plan_layouts(m->weights, LayoutChoice::automatic, true, "device-copy", placed());
  CHECK(plan.of(*m->weights.output) == WeightLayout::gguf_blocks);
  CHECK(plan.to_repack.size() == 7 * m->weights.layers.size());
}

TEST_CASE("gguf asked for, or a policy that reads in place: nothing is repacked, and the report says why") {
  const auto m = tiny_model(model::parse_recipe("Q4_0"));
  const auto asked = runtime::plan_layouts(m->weights, LayoutChoice::gguf_blocks, true, "device-copy", placed());
  CHECK(asked.to_repack.empty());
  CHECK(count(asked, WeightLayout::field_streams) == 0);
  const auto in_place = runtime::plan_layouts(m->weights, LayoutChoice::automatic, false, "host-registered", placed());
  CHECK(in_place.to_repack.empty());
  mapping::PlacementReport report;
  in_place.describe(report);
  CHECK(report.layouts.find("the policy offers only gguf-blocks") != std::string::npos);
}

TEST_CASE("field streams forced on a policy that cannot offer them is an error naming the policy") {
  const auto m = tiny_model(model::parse_recipe("Q4_0"));
  CHECK_THROWS_WITH_AS(
      (void)runtime::plan_layouts(m->weights, LayoutChoice::field_streams, false, "hugepage-import", placed()),
      doctest::Contains("the hugepage-import policy reads the file's bytes in place"), Error);
}

TEST_CASE("matrices that cannot be field streams keep GGUF blocks with their reason") {
  SUBCASE("a format without the layout") {
    const auto m = tiny_model(model::parse_recipe("Q2_K"));
    const auto plan = runtime::plan_layouts(m->weights, LayoutChoice::automatic, true, "device-copy", placed());
    CHECK(plan.to_repack.empty());
    CHECK(std::ranges::any_of(plan.kept_reasons, [](const std::string& r) {
      return r.ends_with("its format has no field-streams layout");
    }));
  }
  SUBCASE("bytes placed off a 16-byte boundary") {
    const auto m = tiny_model(model::parse_recipe("Q4_0"));
    const auto plan = runtime::plan_layouts(m->weights, LayoutChoice::automatic, true, "device-copy", placed(2));
    CHECK(plan.to_repack.empty());
    CHECK(std::ranges::any_of(plan.kept_reasons,
                              [](const std::string& r) { return r.ends_with("not 16-byte aligned"); }));
  }
  SUBCASE("the Q4_K_M mix: Q4_K and Q6_K both have it") {
    const auto m = tiny_model(model::QuantRecipe::q4_k_m());
    const auto plan = runtime::plan_layouts(m->weights, LayoutChoice::automatic, true, "device-copy", placed());
    CHECK(plan.to_repack.size() == 7 * m->weights.layers.size() + 1);
  }
}
