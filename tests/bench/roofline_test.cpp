// The roofline arithmetic: which bytes a decoded token reads, and how far a
// measured t/s is from the ceiling of the link the weights live behind. The
// brief's peer figures are the worked examples.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pagoda/gguf/file.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda_bench/model_info.hpp"
#include "pagoda_bench/roofline.hpp"

using namespace pagoda;
using namespace pagoda::bench;

namespace {

constexpr double gib = 1024.0 * 1024.0 * 1024.0;

}  // namespace

TEST_CASE("the brief's 8B Q4_0 peer: 311 t/s over 4.33 GiB at 2991 GB/s is 48% of the HBM roofline") {
  const Roofline roofline{.weight_bytes_per_token = static_cast<std::uint64_t>(4.33 * gib),
                          .weight_link_gb_s = 2991.0,
                          .kv_bytes_per_position = 0,
                          .device_gb_s = 2991.0};
  CHECK(roofline.tokens_per_second(0) == doctest::Approx(2991e9 / (4.33 * gib)));
  CHECK(roofline.percent(311, 0) == doctest::Approx(48.4).epsilon(0.002));
  // t/s * bytes per token / bandwidth, exactly as the issue defines it.
  CHECK(roofline.percent(311, 0) == doctest::Approx(100.0 * 311 * 4.33 * gib / 2991e9));
}

TEST_CASE("a host policy is judged against its own link: 50 GB/s for zero-copy reads") {
  const Roofline host{.weight_bytes_per_token = 4'000'000'000, .weight_link_gb_s = 50.0,
                      .kv_bytes_per_position = 0, .device_gb_s = 3000.0};
  CHECK(host.tokens_per_second(0) == doctest::Approx(12.5));
  CHECK(host.percent(10.0, 0) == doctest::Approx(80.0));
}

TEST_CASE("at depth, the KV cache read from VRAM joins the weights") {
  // 8B shape: 32 layers, 8 KV heads of 128: 128 KiB of f16 K and V per position.
  const std::uint64_t kv = kv_bytes_per_position(32, 1024);
  CHECK(kv == 131072);
  const Roofline r{.weight_bytes_per_token = 4'000'000'000, .weight_link_gb_s = 2000.0,
                   .kv_bytes_per_position = kv, .device_gb_s = 2000.0};
  const double positions = mean_attended_positions(BenchTest{.n_gen = 128, .n_depth = 4096});
  CHECK(positions == doctest::Approx(4096 + 64.5));
  const double seconds = 4e9 / 2e12 + 131072.0 * positions / 2e12;
  CHECK(r.tokens_per_second(positions) == doctest::Approx(1.0 / seconds));
  CHECK(r.percent(1.0 / seconds, positions) == doctest::Approx(100.0));
}

TEST_CASE("no measured bandwidth, no roofline") {
  const Roofline r{.weight_bytes_per_token = 1000, .weight_link_gb_s = 0, .kv_bytes_per_position = 0,
                   .device_gb_s = 3000};
  CHECK(r.tokens_per_second(0) == 0);
  CHECK(r.percent(100, 0) == 0);
}

TEST_CASE("a token reads every tensor, but only one row of an untied input embedding") {
  const std::vector<TensorBytes> untied{{"token_embd.weight", 1000, 10}, {"blk.0.attn_q.weight", 300, 3},
                                        {"output_norm.weight", 16, 16}, {"output.weight", 1000, 10}};
  CHECK(weight_bytes_per_token(untied) == 10 + 300 + 16 + 1000);
  const std::vector<TensorBytes> tied{{"token_embd.weight", 1000, 10}, {"blk.0.attn_q.weight", 300, 3}};
  CHECK(weight_bytes_per_token(tied) == 1300);  // the output projection reads it whole
}

TEST_CASE("a synthetic GGUF's size, params and bytes per token, from its tensor table") {
  model::SyntheticSpec spec;
  spec.shape = model::parse_custom_shape("layers=2,d=256,heads=4,kv=2,ffn=512,vocab=512,ctx=128");
  spec.recipe = model::QuantRecipe::uniform(gguf::TensorType::Q8_0);
  spec.threads = 2;
  const auto bytes = model::synthetic_bytes(spec);
  const auto file = gguf::File::parse(bytes, "tiny.gguf");
  const ModelInfo info = describe_model(file, "/models/tiny.gguf");

  std::uint64_t size = 0, params = 0, embedding = 0, embedding_row = 0;
  for (const auto& t : file.tensors()) {
    size += t.byte_size;
    params += t.element_count;
    if (t.name == "token_embd.weight") {
      embedding = t.byte_size;
      embedding_row = t.row_bytes();
    }
  }
  CHECK(info.path == "/models/tiny.gguf");
  CHECK(info.name.find("custom") != std::string::npos);
  CHECK(info.size_bytes == size);
  CHECK(info.params == params);
  CHECK(info.vocab == 512);
  CHECK(embedding_row == 256 / 32 * 34);  // one Q8_0 row of d = 256
  const bool tied = file.find_tensor("output.weight") == nullptr;
  CHECK(info.weight_bytes_per_token == (tied ? size : size - embedding + embedding_row));
  CHECK(info.kv_bytes_per_position == 2ull * 2 * (2 * 64) * 2);  // layers * (K, V) * kv_dim * f16
}
