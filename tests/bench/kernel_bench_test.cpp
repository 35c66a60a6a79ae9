// pagoda-kernel-bench's plan and report: which GEMVs a decode step of each
// named shape runs, which formats cannot tile them, how many input copies
// keep L2 out of the timing, and the tables' shapes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel_bench/cases.hpp"
#include "kernel_bench/options.hpp"
#include "kernel_bench/report.hpp"

using namespace pagoda;
using namespace pagoda::kernel_bench;
using gguf::TensorType;

namespace {

std::string error_of(std::vector<std::string> args) {
  try {
    (void)parse_kernel_bench_arguments(std::move(args));
  } catch (const bench::UsageError& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_CASE("the 8B shape's decode step: q/k/v/o, gate/up/down and the output projection") {
  const auto p = projections_of(model::find_shape("llama-3-8b"));
  REQUIRE(p.size() == 8);
  const std::vector<std::tuple<std::string, std::uint64_t, std::uint64_t>> expected{
      {"attn_q", 4096, 4096},   {"attn_k", 1024, 4096}, {"attn_v", 1024, 4096},     {"attn_output", 4096, 4096},
      {"ffn_gate", 14336, 4096}, {"ffn_up", 14336, 4096}, {"ffn_down", 4096, 14336}, {"output", 128256, 4096}};
  for (std::size_t i = 0; i < p.size(); ++i) {
    CHECK(p[i].name == std::get<0>(expected[i]));
    CHECK(p[i].rows == std::get<1>(expected[i]));
    CHECK(p[i].cols == std::get<2>(expected[i]));
  }
}

TEST_CASE("GEMV cases: weight bytes from the format's blocks; K-quants skip SmolLM2's 576 columns, saying why") {
  // Each format in its GGUF layout, then in field streams (both have them).
  const auto cases = plan_gemv({"smollm2-135m", "llama-3-8b"}, {TensorType::Q4_0, TensorType::Q4_K});
  CHECK(cases.size() == 2 * 8 * 2 * 2);
  const GemvCase& q4_0 = cases[0];  // smollm2 attn_q, Q4_0: 576 x 576
  CHECK(q4_0.shape == "smollm2-135m");
  CHECK(q4_0.projection.name == "attn_q");
  CHECK(q4_0.weight_bytes == 576ull * (576 / 32) * 18);
  CHECK(q4_0.skipped.empty());
  CHECK(q4_0.layout == pagoda::quant::WeightLayout::gguf_blocks);
  const GemvCase& q4_0_packed = cases[1];
  CHECK(q4_0_packed.layout == pagoda::quant::WeightLayout::field_streams);
  CHECK(q4_0_packed.weight_bytes == q4_0.weight_bytes);
  const GemvCase& q4_k = cases[2];
  CHECK(q4_k.skipped == "cols 576 is not a multiple of Q4_K's 256-element blocks");
  CHECK(q4_k.weight_bytes == 0);
  const GemvCase& down = cases[4 * 6 + 2];  // smollm2 ffn_down, Q4_K: 1536 columns tile
  CHECK(down.projection.name == "ffn_down");
  CHECK(down.skipped.empty());
  CHECK(down.weight_bytes == 576ull * (1536 / 256) * 144);
  const GemvCase& output = cases.back();  // llama-3-8b output, Q4_K
  CHECK(output.weight_bytes == 128256ull * (4096 / 256) * 144);
}

TEST_CASE("attention cases: K and V of every live position, read once") {
  const auto cases = plan_attention("llama-3-8b", {512, 32768});
  REQUIRE(cases.size() == 2);
  CHECK(cases[0].n_heads == 32);
  CHECK(cases[0].n_kv_heads == 8);
  CHECK(cases[0].head_dim == 128);
  CHECK(cases[0].kv_bytes == 2ull * 2 * 512 * 1024);
  CHECK(cases[1].kv_bytes == 128ull << 20);
}

TEST_CASE("copies keep a replay's footprint above a few L2s, at least two, within the cap") {
  CHECK(copies_for(1ull << 20, 150ull << 20, 2048) == 150);
  CHECK(copies_for(600ull << 20, 150ull << 20, 2048) == 2);
  CHECK(copies_for(1000, 150ull << 20, 2048) == 2048);
  CHECK(copies_for(0, 150ull << 20, 2048) == 2);
}

TEST_CASE("GB/s is bytes over time; the percentage is of the measured device read") {
  CHECK(gb_per_second(3'000'000, 1.0) == doctest::Approx(3000.0));
  CHECK(gb_per_second(1, 0.0) == 0);
  CHECK(percent_of(1500.0, bench::LinkMeasurement{3000.0, 1, 1}) == doctest::Approx(50.0));
  CHECK(percent_of(1500.0, std::nullopt) == 0);
}

TEST_CASE("kernel-bench flags: defaults, lists, and errors naming the flag") {
  const auto d = parse_kernel_bench_arguments({});
  CHECK(d.shapes == std::vector<std::string>{"smollm2-135m", "llama-3.2-1b", "llama-3-8b"});
  CHECK(d.formats == default_formats());
  CHECK(d.depths == std::vector<std::uint32_t>{512, 4096, 16384, 32768});
  CHECK(d.samples == 50);
  CHECK(d.attention_shape == "llama-3-8b");
  const auto o = parse_kernel_bench_arguments(
      {"--shapes", "llama-3.2-1b", "--formats", "q8_0,Q4_K", "--depths", "1024-4096*2", "--samples", "80",
       "--no-attention", "-o", "json", "--save", "k.csv"});
  CHECK(o.shapes == std::vector<std::string>{"llama-3.2-1b"});
  CHECK(o.formats == std::vector<TensorType>{TensorType::Q8_0, TensorType::Q4_K});
  CHECK(o.depths == std::vector<std::uint32_t>{1024, 2048, 4096});
  CHECK(o.samples == 80);
  CHECK_FALSE(o.attention);
  CHECK(o.output == bench::OutputFormat::json);
  REQUIRE(o.saves.size() == 1);
  CHECK(o.saves[0].format == bench::OutputFormat::csv);
  CHECK(parse_kernel_bench_arguments({"--help"}).help);

  CHECK(error_of({"--samples", "10"}) == "--samples must be between 50 and 100000 (got 10)");
  CHECK(error_of({"--formats", "Q4_0,q4_0"}) == "--formats: Q4_0 is listed twice");
  CHECK(error_of({"--formats", "Q9_9"}).starts_with("--formats: 'Q9_9' is not a format pagoda computes with"));
  CHECK(error_of({"--shapes", "llama-9-900b"}).starts_with("--shapes: 'llama-9-900b' is not a named shape"));
  CHECK(error_of({"--attention-shape", "llama-3-8b,llama-3.2-1b"}) == "--attention-shape: one shape, not 2");
  CHECK(error_of({"--no-gemv", "--no-attention"}) == "nothing to run: both --no-gemv and --no-attention were given");
  CHECK(error_of({"--depths", "0"}) == "--depths must be between 1 and 1048576 (got 0)");
  CHECK(error_of({"--gemv"}) == "unrecognised option '--gemv'");
}

namespace {

KernelReport sample_kernel_report() {
  KernelReport r;
  r.device_name = "NVIDIA H100 80GB HBM3";
  r.compute_major = 9;
  r.l2_bytes = 50ull << 20;
  r.footprint_bytes = 150ull << 20;
  r.device_read = bench::LinkMeasurement{3000.0, 1ull << 30, 21};
  r.samples = 50;
  r.gemv = plan_gemv({"smollm2-135m"}, {TensorType::Q4_K});
  std::erase_if(r.gemv, [](const GemvCase& c) { return c.layout != pagoda::quant::WeightLayout::gguf_blocks; });
  r.gemv.resize(7);  // attn_q .. ffn_down: ffn_down (index 6) is the one that runs
  r.gemv[6].microseconds = 1.5;
  r.gemv[6].copies = 300;
  r.gemv.push_back(r.gemv[6]);  // and the same matrix in field streams, twice as fast
  r.gemv[7].layout = pagoda::quant::WeightLayout::field_streams;
  r.gemv[7].microseconds = 0.75;
  r.attention = plan_attention("llama-3-8b", {4096});
  r.attention[0].microseconds = 10.0;
  r.attention[0].copies = 10;
  return r;
}

}  // namespace

TEST_CASE("kernel-bench markdown: header, a GEMV table with skipped rows, an attention table") {
  const std::string md = format_markdown(sample_kernel_report());
  CHECK(md.starts_with("## pagoda-kernel-bench\n\n- device: NVIDIA H100 80GB HBM3, sm_90, L2 50.00 MiB\n"
                       "- streaming read of device memory: 3000.0 GB/s (1.00 GiB, median of 21 passes)\n"));
  CHECK(md.find("| smollm2-135m | attn_q | 576 × 576 | Q4_K | - | skipped: cols 576 is not a multiple of Q4_K's "
                "256-element blocks | | |\n") != std::string::npos);
  // 576 * 6 * 144 = 497664 bytes in 1.5 us: 331.8 GB/s, 11.1% of 3000.
  CHECK(md.find("| smollm2-135m | ffn_down | 576 × 1536 | Q4_K | 486.00 KiB | 1.50 | 331.8 | 11.1% |\n") !=
        std::string::npos);
  CHECK(md.find("| smollm2-135m | ffn_down | 576 × 1536 | Q4_K packed | 486.00 KiB | 0.75 | 663.6 | 22.1% |\n") !=
        std::string::npos);
  CHECK(md.find("### attention decode (kernels::attention_decode): llama-3-8b, 32 heads, 8 KV heads of 128\n") !=
        std::string::npos);
  // 4 * 4096 * 1024 = 16 MiB in 10 us: 1677.7 GB/s.
  CHECK(md.ends_with("| 4096 | 16.00 MiB | 10.00 | 1677.7 | 55.9% |\n"));
}

TEST_CASE("kernel-bench csv and json: one row or object per case") {
  const auto report = sample_kernel_report();
  const std::string csv = format_csv(report);
  CHECK(csv.starts_with("kernel,shape,matrix,rows,cols,format,depth,bytes,microseconds,gb_s,percent_of_device_read,"
                        "copies,samples,skipped\n"));
  CHECK(csv.find("gemv,smollm2-135m,ffn_down,576,1536,Q4_K,,497664,1.500,331.776,11.059,300,50,\n") !=
        std::string::npos);
  CHECK(csv.find("gemv,smollm2-135m,attn_q,576,576,Q4_K,,,,,,,,cols 576 is not a multiple") != std::string::npos);
  CHECK(csv.ends_with("attention_decode,llama-3-8b,,,,F16,4096,16777216,10.000,1677.722,55.924,10,50,\n"));

  const auto doc = nlohmann::json::parse(format_json(report));
  CHECK(doc["machine"]["device_read"]["gb_s"] == 3000.0);
  CHECK(doc["samples"] == 50);
  REQUIRE(doc["gemv"].size() == 8);
  CHECK(doc["gemv"][6]["layout"] == "gguf-blocks");
  CHECK(doc["gemv"][7]["layout"] == "field-streams");
  CHECK(doc["gemv"][0].contains("skipped"));
  CHECK_FALSE(doc["gemv"][0].contains("microseconds"));
  CHECK(doc["gemv"][6]["weight_bytes"] == 497664);
  CHECK(doc["gemv"][6]["gb_s"].get<double>() == doctest::Approx(331.776));
  CHECK(doc["attention_decode"][0]["kv_bytes"] == 16777216);
  CHECK(doc["attention_decode"][0]["percent_of_device_read"].get<double>() == doctest::Approx(55.924).epsilon(1e-4));
}
