// Named shapes, custom shapes, recipes and the tensor plan: the Q4_K_M mix
// puts Q6_K where llama.cpp does, and every tensor that cannot take the
// recipe's format is reported with what it got instead.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "pagoda/core/error.hpp"
#include "pagoda/model/synthetic.hpp"
#include "synth_support.hpp"

using namespace pagoda;
using gguf::TensorType;

namespace {

const model::PlannedTensor& find(const model::SyntheticPlan& plan, std::string_view name) {
  const auto it = std::find_if(plan.tensors.begin(), plan.tensors.end(), [&](const auto& t) { return t.name == name; });
  REQUIRE_MESSAGE(it != plan.tensors.end(), name);
  return *it;
}

bool has(const model::SyntheticPlan& plan, std::string_view name) {
  return std::any_of(plan.tensors.begin(), plan.tensors.end(), [&](const auto& t) { return t.name == name; });
}

}  // namespace

TEST_CASE("the named shapes carry the real models' published hyperparameters") {
  const auto& smollm = model::find_shape("smollm2-135m");
  CHECK(smollm.n_layers == 30);
  CHECK(smollm.d_model == 576);
  CHECK(smollm.n_heads == 9);
  CHECK(smollm.n_kv_heads == 3);
  CHECK(smollm.d_ffn == 1536);
  CHECK(smollm.vocab == 49152);
  CHECK(smollm.tied_output);
  const auto& llama8 = model::find_shape("llama-3-8b");
  CHECK(llama8.n_layers == 32);
  CHECK(llama8.d_ffn == 14336);
  CHECK(llama8.vocab == 128256);
  CHECK_FALSE(llama8.tied_output);
  CHECK(model::find_shape("llama-3.2-1b").llama3_rope_factor == 32.0f);
  CHECK(model::find_shape("qwen2.5-14b").qkv_bias);
  CHECK(model::find_shape("llama-3-70b").d_ffn == 28672);
  const auto& gemma = model::find_shape("gemma-3-270m");
  CHECK(gemma.architecture == "gemma3");
  CHECK(gemma.effective_head_dim() == 256);
  CHECK(gemma.n_kv_heads == 1);
  CHECK(gemma.vocab == 262144);
  for (const auto& shape : model::named_shapes()) CHECK_NOTHROW(model::validate(shape));
}

TEST_CASE("an unknown shape name is an error listing the names") {
  CHECK_THROWS_WITH_AS((void)model::find_shape("llama-4"), doctest::Contains("allowed: smollm2-135m, llama-3.2-1b"),
                       Error);
}

TEST_CASE("custom shapes parse with defaults and refuse bad keys and values, naming them") {
  const auto s = model::parse_custom_shape("layers=2,d=64,heads=4,ffn=96,vocab=400");
  CHECK(s.n_kv_heads == 4);
  CHECK(s.effective_head_dim() == 16);
  CHECK(s.architecture == "llama");
  CHECK(s.tokenizer == model::TokenizerStyle::llama3);
  const auto q = model::parse_custom_shape("layers=1,d=64,heads=4,kv=2,ffn=96,vocab=400,arch=qwen2");
  CHECK(q.qkv_bias);
  CHECK(q.tokenizer == model::TokenizerStyle::qwen2);
  CHECK_THROWS_WITH_AS((void)model::parse_custom_shape("layers=2,d=64,heads=4,ffn=96"),
                       "--custom: vocab= is required (layers, d, heads, ffn and vocab are)", Error);
  CHECK_THROWS_WITH_AS((void)model::parse_custom_shape("layers=2,d=64,heads=4,ffn=96,vocab=400,wings=2"),
                       doctest::Contains("unknown key 'wings'"), Error);
  CHECK_THROWS_WITH_AS((void)model::parse_custom_shape("layers=x,d=64,heads=4,ffn=96,vocab=400"),
                       "--custom: layers=x is not a non-negative integer", Error);
  CHECK_THROWS_WITH_AS((void)model::parse_custom_shape("layers=2,d=64,heads=4,kv=3,ffn=96,vocab=400"),
                       doctest::Contains("4 heads cannot be grouped over 3 KV heads"), Error);
  CHECK_THROWS_WITH_AS((void)model::parse_custom_shape("layers=2,d=64,heads=4,ffn=96,vocab=100"),
                       doctest::Contains("too small for the llama3 tokenizer"), Error);
}

TEST_CASE("recipes: every listed format by name, Q4_K_M, and a clear error for anything else") {
  CHECK(model::parse_recipe("q4_0").format == TensorType::Q4_0);
  CHECK(model::parse_recipe("BF16").format == TensorType::BF16);
  CHECK(model::parse_recipe("Q4_K_M").kind == model::QuantRecipe::Kind::q4_k_m);
  CHECK(model::recipe_names().back() == "Q4_K_M");
  CHECK_THROWS_WITH_AS((void)model::parse_recipe("IQ4_NL"), doctest::Contains("allowed: F32, F16, BF16, Q4_0"), Error);
  CHECK(model::QuantRecipe::uniform(TensorType::Q4_0, TensorType::Q6_K).name() == "Q4_0 (output Q6_K)");
}

TEST_CASE("use_more_bits picks the first and last eighth and every third layer between, as llama.cpp does") {
  std::vector<std::uint32_t> chosen;
  for (std::uint32_t i = 0; i < 32; ++i)
    if (model::q4_k_m_uses_more_bits(i, 32)) chosen.push_back(i);
  CHECK(chosen == std::vector<std::uint32_t>{0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31});
}

TEST_CASE("the Q4_K_M mix: Q6_K for output and for attn_v / ffn_down where use_more_bits says, Q4_K elsewhere") {
  const auto plan = model::plan_tensors(model::find_shape("llama-3-8b"), model::QuantRecipe::q4_k_m());
  CHECK(plan.fallbacks.empty());
  CHECK(find(plan, "output.weight").type == TensorType::Q6_K);
  CHECK(find(plan, "token_embd.weight").type == TensorType::Q4_K);
  CHECK(find(plan, "output_norm.weight").type == TensorType::F32);
  for (std::uint32_t layer = 0; layer < 32; ++layer) {
    const auto name = [&](std::string_view part) { return fmt::format("blk.{}.{}.weight", layer, part); };
    const auto more = model::q4_k_m_uses_more_bits(layer, 32) ? TensorType::Q6_K : TensorType::Q4_K;
    CHECK(find(plan, name("attn_v")).type == more);
    CHECK(find(plan, name("ffn_down")).type == more);
    for (const auto* part : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"})
      CHECK(find(plan, name(part)).type == TensorType::Q4_K);
    CHECK(find(plan, name("attn_norm")).type == TensorType::F32);
  }
  // A tied embedding is also the output matrix, and llama.cpp quantizes it as one.
  const auto tied = model::plan_tensors(model::find_shape("llama-3.2-1b"), model::QuantRecipe::q4_k_m());
  CHECK(find(tied, "token_embd.weight").type == TensorType::Q6_K);
  CHECK_FALSE(has(tied, "output.weight"));
  CHECK(find(tied, "rope_freqs.weight").dims == std::vector<std::uint64_t>{32});
}

TEST_CASE("a K-quant on rows that are not whole 256-element blocks falls back per tensor, and says so") {
  const auto plan = model::plan_tensors(model::find_shape("smollm2-135m"), model::QuantRecipe::q4_k_m());
  // Rows of 576: Q4_K -> Q5_0 and Q6_K -> Q8_0; ffn_down rows are 1536 = 6 x 256 and keep their K-quant.
  CHECK(find(plan, "blk.0.attn_q.weight").type == TensorType::Q5_0);
  CHECK(find(plan, "blk.0.attn_v.weight").type == TensorType::Q8_0);
  CHECK(find(plan, "blk.0.ffn_down.weight").type == TensorType::Q6_K);
  CHECK(find(plan, "blk.4.ffn_down.weight").type == TensorType::Q4_K);
  CHECK(find(plan, "token_embd.weight").type == TensorType::Q8_0);
  CHECK(plan.fallbacks.size() == 1 + 30 * 6);
  const auto& first = plan.fallbacks.front();
  CHECK(first.tensor == "token_embd.weight");
  CHECK(first.wanted == TensorType::Q6_K);
  CHECK(first.used == TensorType::Q8_0);
  CHECK(model::describe(first) ==
        "token_embd.weight: Q6_K -> Q8_0 (rows of 576 elements are not whole 256-element blocks)");
  for (const auto& f : plan.fallbacks) CHECK(f.row_length == 576);

  // A single K-quant everywhere, and a row that is not even whole 32-element blocks: F16.
  auto odd = test::tiny_llama_shape();
  odd.d_model = 200;
  odd.head_dim = 64;
  const auto odd_plan = model::plan_tensors(odd, model::QuantRecipe::uniform(TensorType::Q6_K));
  CHECK(find(odd_plan, "blk.0.attn_q.weight").type == TensorType::F16);
  CHECK(find(odd_plan, "blk.0.attn_output.weight").type == TensorType::Q6_K);  // rows of 4 x 64 = 256
  CHECK_FALSE(odd_plan.fallbacks.empty());
}

TEST_CASE("a uniform recipe stores every matrix in its format, output too unless told otherwise") {
  const auto shape = test::tiny_llama_shape();
  const auto plan = model::plan_tensors(shape, model::QuantRecipe::uniform(TensorType::Q4_0));
  for (const auto& t : plan.tensors)
    CHECK_MESSAGE(t.type == (t.dims.size() == 1 ? TensorType::F32 : TensorType::Q4_0), t.name);
  const auto llama_like =
      model::plan_tensors(shape, model::QuantRecipe::uniform(TensorType::Q4_0, TensorType::Q6_K));
  CHECK(find(llama_like, "output.weight").type == TensorType::Q6_K);
  CHECK(find(llama_like, "token_embd.weight").type == TensorType::Q4_0);
}

TEST_CASE("the 8B plan has Llama 3 8B's parameter count") {
  const auto plan = model::plan_tensors(model::find_shape("llama-3-8b"), model::QuantRecipe::uniform(TensorType::Q4_0));
  CHECK(plan.parameter_count == 8030261248ull);
  CHECK(plan.tensors.size() == 291);
}
