// pagoda-kernel-bench's plan and report: which GEMVs a decode step of each
// named shape runs, which formats cannot tile them, how many input copies
// keep L2 out of the timing, which prefill matmuls run and which the
// tensor-core kernel refuses, prefill attention's causal FLOPs, which sampler
// cases run under which block_top_k policy, the TFLOP/s arithmetic, and the
// tables' shapes.
#include <doctest/doctest.h>

#include <algorithm>

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel_bench/cases.hpp"
#include "kernel_bench/options.hpp"
#include "kernel_bench/report.hpp"
#include "pagoda/core/error.hpp"

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
  CHECK(cases[0].target_blocks == 0);  // the policy's grid
}

TEST_CASE("attention cases: one per depth and grid target, depth-major") {
  const auto cases = plan_attention("llama-3-8b", {512, 4096}, {256, 512});
  REQUIRE(cases.size() == 4);
  CHECK(cases[0].depth == 512);
  CHECK(cases[0].target_blocks == 256);
  CHECK(cases[1].depth == 512);
  CHECK(cases[1].target_blocks == 512);
  CHECK(cases[3].depth == 4096);
  CHECK(cases[3].kv_bytes == 2ull * 2 * 4096 * 1024);
  CHECK_FALSE(cases[3].direct);
}

TEST_CASE("attention cases: with the one launch, a row of it after each depth's grid rows") {
  const auto cases = plan_attention("llama-3-8b", {128, 256}, {}, true);
  REQUIRE(cases.size() == 4);
  CHECK_FALSE(cases[0].direct);
  CHECK(cases[0].target_blocks == 0);
  CHECK(cases[1].direct);
  CHECK(cases[1].depth == 128);
  CHECK(cases[1].kv_bytes == 2ull * 2 * 128 * 1024);
  CHECK(cases[3].direct);
  CHECK(cases[3].depth == 256);
}

TEST_CASE("prefill cases: every projection but the output one, field-streams formats only, each M") {
  // F16 and Q2_K have no field-streams layout: no prefill case.
  const auto cases = plan_prefill(
      {"llama-3-8b"}, {TensorType::Q4_0, TensorType::F16, TensorType::Q2_K, TensorType::Q6_K}, {128, 512, 2048});
  REQUIRE(cases.size() == 7 * 2 * 3);
  // Order: projection, format, M.
  CHECK(cases[0].shape == "llama-3-8b");
  CHECK(cases[0].projection.name == "attn_q");
  CHECK(cases[0].format == TensorType::Q4_0);
  CHECK(cases[0].tokens == 128);
  CHECK(cases[2].tokens == 2048);
  CHECK(cases[3].format == TensorType::Q6_K);
  CHECK(cases.back().projection.name == "ffn_down");
  CHECK(std::ranges::none_of(cases, [](const PrefillCase& c) { return c.projection.name == "output"; }));
  CHECK(std::ranges::all_of(cases, [](const PrefillCase& c) { return c.skipped.empty(); }));
  const PrefillCase& down = cases.back();  // ffn_down, Q6_K: 4096 x 14336, 56 super-blocks a row
  CHECK(down.projection.rows == 4096);
  CHECK(down.projection.cols == 14336);
  CHECK(down.weight_bytes == 4096ull * (14336 / 256) * 210);
  CHECK(cases[0].weight_bytes == 4096ull * (4096 / 32) * 18);
}

TEST_CASE("prefill cases matmul_mma_streams cannot take are kept, skipped with the reason") {
  // SmolLM2's 576 columns are not whole Q4_K blocks; Q4_0 takes them (18 blocks, 36-byte d entries).
  const auto cases = plan_prefill({"smollm2-135m"}, {TensorType::Q4_0, TensorType::Q4_K}, {64});
  REQUIRE(cases.size() == 7 * 2);
  CHECK(cases[0].skipped.empty());
  CHECK(cases[1].skipped == "cols 576 is not a multiple of Q4_K's 256-element blocks");
  CHECK(cases[1].weight_bytes == 0);
  CHECK(cases[2 * 6 + 1].projection.name == "ffn_down");  // 1536 columns: 6 super-blocks, taken
  CHECK(cases[2 * 6 + 1].skipped.empty());

  // The rule of kernels::matmul_mma_takes, with its reasons (tests/gpu checks the same cols against the kernel).
  CHECK(mma_refusal(TensorType::Q4_0, 512).empty());
  CHECK(mma_refusal(TensorType::Q4_0, 96) == "cols 96 is not a multiple of matmul_mma_streams's 64-element stages");
  CHECK(mma_refusal(TensorType::Q6_K, 4096).empty());
  CHECK(mma_refusal(TensorType::Q6_K, 768) ==
        "cols 768 make 3 blocks of Q6_K: a row's entries of the 2-byte field at block byte 208 take 6 bytes, not "
        "whole 4-byte words (matmul_mma_streams copies words)");
  CHECK(mma_refusal(TensorType::Q5_K, 100) == "cols 100 is not a multiple of Q5_K's 256-element blocks");
  CHECK(mma_refusal(TensorType::Q4_0, 0) == "no columns");
  CHECK(mma_refusal(TensorType::F16, 4096) == "F16 has no field-streams layout");
}

TEST_CASE("prefill TFLOP/s: 2 * M * rows * cols over the time; a share of the peak only when one is given") {
  // 512 x 4096 x 4096: 17.18 GFLOP in 100 us = 171.8 TFLOP/s.
  CHECK(prefill_tflops(512, 4096, 4096, 100.0) == doctest::Approx(171.798691840));
  CHECK(prefill_tflops(1, 1, 1, 0.0) == 0);
  CHECK(percent_of_peak(171.8, 989.4) == doctest::Approx(17.364).epsilon(1e-4));
  CHECK(percent_of_peak(171.8, 0) == 0);
  CHECK(mma_policy_label(kernels::mma_policy_wide) == "mma.sync 128x128 tile, 2x4 warps");
  CHECK(wgmma_policy_label(kernels::wgmma_policy_wide) == "wgmma 128x128 tile, 2 warpgroups, 2 blocks/SM");
  CHECK(wgmma_policy_label(kernels::wgmma_policy_wide_deep) == "wgmma 128x128 tile, 2 warpgroups, 1 blocks/SM");
  CHECK(wgmma_policy_label(kernels::wgmma_policy_short) == "wgmma 64x64 tile, 1 warpgroup, 3 blocks/SM");
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
  CHECK(d.attention_blocks.empty());
  CHECK(d.samples == 50);
  CHECK(d.attention_shape == "llama-3-8b");
  CHECK(d.tokens == std::vector<std::uint32_t>{128, 512, 2048});
  CHECK(d.tc_peak_tflops == 0);
  CHECK(d.prefill);
  CHECK(d.attention_tokens == std::vector<std::uint32_t>{512, 2048, 8192});
  CHECK(d.sampling_vocab == 128256);
  CHECK(d.prefill_attention);
  CHECK(d.sampling);
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

  const auto p = parse_kernel_bench_arguments({"--tokens", "64-1024*4,2048", "--tc-peak-tflops=989.4", "--no-gemv"});
  CHECK(p.tokens == std::vector<std::uint32_t>{64, 256, 1024, 2048});
  CHECK(p.tc_peak_tflops == doctest::Approx(989.4));
  CHECK_FALSE(p.gemv);
  CHECK(p.prefill);
  CHECK(parse_kernel_bench_arguments({"--attention-blocks", "256,528"}).attention_blocks ==
        std::vector<std::uint32_t>{256, 528});
  CHECK(error_of({"--attention-blocks", "0"}).starts_with("--attention-blocks"));
  CHECK(parse_kernel_bench_arguments({"--attention-direct"}).attention_direct);
  CHECK_FALSE(parse_kernel_bench_arguments({}).attention_direct);
  CHECK(error_of({"--attention-direct=1"}).starts_with("--attention-direct"));
  CHECK_FALSE(parse_kernel_bench_arguments({"--no-prefill"}).prefill);
  CHECK(parse_kernel_bench_arguments({"--no-prefill", "--prefill"}).prefill);  // the last one holds
  CHECK(parse_kernel_bench_arguments({"--tc-peak-tflops", "0"}).tc_peak_tflops == 0);

  CHECK(error_of({"--samples", "10"}) == "--samples must be between 50 and 100000 (got 10)");
  CHECK(error_of({"--formats", "Q4_0,q4_0"}) == "--formats: Q4_0 is listed twice");
  CHECK(error_of({"--formats", "Q9_9"}).starts_with("--formats: 'Q9_9' is not a format pagoda computes with"));
  CHECK(error_of({"--shapes", "llama-9-900b"}).starts_with("--shapes: 'llama-9-900b' is not a named shape"));
  CHECK(error_of({"--attention-shape", "llama-3-8b,llama-3.2-1b"}) == "--attention-shape: one shape, not 2");
  CHECK(parse_kernel_bench_arguments({"--no-gemv", "--no-attention"}).prefill);  // prefill alone
  const auto only_sampling = parse_kernel_bench_arguments(
      {"--no-gemv", "--no-attention", "--no-prefill", "--no-prefill-attention", "--sampling-vocab", "151936"});
  CHECK(only_sampling.sampling);
  CHECK_FALSE(only_sampling.prefill_attention);
  CHECK(only_sampling.sampling_vocab == 151936);
  const auto only_attention = parse_kernel_bench_arguments(
      {"--no-gemv", "--no-attention", "--no-prefill", "--no-sampling", "--attention-tokens", "512-8192*4"});
  CHECK(only_attention.prefill_attention);
  CHECK_FALSE(only_attention.sampling);
  CHECK(only_attention.attention_tokens == std::vector<std::uint32_t>{512, 2048, 8192});
  CHECK(error_of({"--no-gemv", "--no-attention", "--no-prefill", "--no-prefill-attention", "--no-sampling"}) ==
        "nothing to run: --no-gemv, --no-attention, --no-prefill, --no-prefill-attention and --no-sampling were all "
        "given");
  CHECK(error_of({"--attention-tokens", "0"}) == "--attention-tokens must be between 1 and 32768 (got 0)");
  CHECK(error_of({"--attention-tokens", "65536"}) == "--attention-tokens must be between 1 and 32768 (got 65536)");
  CHECK(error_of({"--sampling-vocab", "0"}) == "--sampling-vocab must be between 1 and 4194304 (got 0)");
  CHECK(error_of({"--no-sampling=1"}) == "--no-sampling: takes no value");
  CHECK(error_of({"--tokens", "0"}) == "--tokens must be between 1 and 32768 (got 0)");
  CHECK(error_of({"--tokens", "65536"}) == "--tokens must be between 1 and 32768 (got 65536)");
  const std::string peak_range = "--tc-peak-tflops must be a number between 0 and 100000";
  CHECK(error_of({"--tc-peak-tflops", "fast"}) == peak_range + " (got 'fast')");
  CHECK(error_of({"--tc-peak-tflops", "-1"}) == peak_range + " (got '-1')");
  CHECK(error_of({"--tc-peak-tflops", "989x"}) == peak_range + " (got '989x')");
  CHECK(error_of({"--tc-peak-tflops", "nan"}) == peak_range + " (got 'nan')");
  CHECK(error_of({"--prefill=1"}) == "--prefill: takes no value");
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
  CHECK(md.ends_with("| 4096 | policy | 16.00 MiB | 10.00 | 1677.7 | 55.9% |\n"));
}

TEST_CASE("kernel-bench csv and json: one row or object per case") {
  const auto report = sample_kernel_report();
  const std::string csv = format_csv(report);
  CHECK(csv.starts_with("kernel,shape,matrix,rows,cols,format,depth,bytes,microseconds,gb_s,percent_of_device_read,"
                        "copies,samples,skipped,tokens,tflops,percent_of_tc_peak,vocab,parameters,policy,path,"
                        "stream_microseconds\n"));
  CHECK(csv.find("gemv,smollm2-135m,ffn_down,576,1536,Q4_K,,497664,1.500,331.776,11.059,300,50,,,,,,,,,\n") !=
        std::string::npos);
  CHECK(csv.find("gemv,smollm2-135m,attn_q,576,576,Q4_K,,,,,,,,cols 576 is not a multiple of Q4_K's 256-element "
                 "blocks,,,,,,,,\n") != std::string::npos);
  CHECK(csv.ends_with("attention_decode,llama-3-8b,,,,F16,4096,16777216,10.000,1677.722,55.924,10,50,,,,,,,,,\n"));

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
  CHECK(doc["prefill_matmul"].empty());
  CHECK(doc["prefill_attention"].empty());
  CHECK(doc["sampling"].empty());
  CHECK(doc["tc_peak_tflops"].is_null());
}

namespace {

// The H100 the tensor-core sections' sample reports describe, with `peak` as --tc-peak-tflops.
KernelReport sample_h100_report(double peak) {
  KernelReport r;
  r.device_name = "NVIDIA H100 80GB HBM3";
  r.compute_major = 9;
  r.l2_bytes = 50ull << 20;
  r.footprint_bytes = 150ull << 20;
  r.prefill_footprint_bytes = 50ull << 20;
  r.tc_peak_tflops = peak;
  r.samples = 50;
  return r;
}

// The 8B attn_q at M = 512 in Q4_0 (matmul_mma_streams 100 us, matmul_q_streams
// 250 us), and SmolLM2's attn_q in Q4_K, which the kernel refuses.
KernelReport sample_prefill_report(double peak) {
  KernelReport r = sample_h100_report(peak);
  r.prefill = plan_prefill({"llama-3-8b"}, {TensorType::Q4_0}, {512});
  r.prefill.resize(1);
  PrefillCase& q = r.prefill[0];
  q.mma_microseconds = 100.0;
  q.mma_policy = mma_policy_label(kernels::mma_policy_wide);
  q.mma_forced = {{mma_policy_label(kernels::mma_policy_wide), 100.0},
                  {mma_policy_label(kernels::mma_policy_narrow), 125.0}};
  q.matmul_q_microseconds = 250.0;
  q.copies = 6;
  const auto refused = plan_prefill({"smollm2-135m"}, {TensorType::Q4_K}, {512});
  r.prefill.push_back(refused.front());
  return r;
}

}  // namespace

TEST_CASE("kernel-bench markdown: a prefill matmul table in TFLOP/s, % of the peak only when one is given") {
  // 2 * 512 * 4096 * 4096 = 17.18 GFLOP: 171.8 TFLOP/s in 100 us, 68.7 in 250 us.
  const std::string md = format_markdown(sample_prefill_report(0));
  CHECK(md.find("### GEMV") == std::string::npos);
  CHECK(md.find("### prefill matmul (kernels::matmul_mma_streams, beside kernels::matmul_q_streams)") !=
        std::string::npos);
  CHECK(md.find("A replay's weight copies add up to at least 50.00 MiB; TFLOP/s = 2 × M × rows × cols / time; no "
                "tensor-core peak given (--tc-peak-tflops).") != std::string::npos);
  CHECK(md.find("| shape | matrix | format | M | rows × cols | mma µs | mma TFLOP/s | mma tile | matmul_q µs | "
                "matmul_q TFLOP/s | speed-up |\n") != std::string::npos);
  CHECK(md.find("| llama-3-8b | attn_q | Q4_0 | 512 | 4096 × 4096 | 100.00 | 171.8 | mma.sync 128x128 tile, 2x4 warps | "
                "250.00 | 68.7 | 2.50× |\n") != std::string::npos);
  CHECK(md.ends_with("| smollm2-135m | attn_q | Q4_K | 512 | 576 × 576 | skipped: cols 576 is not a multiple of "
                     "Q4_K's 256-element blocks | | | | | |\n"));

  const std::string with_peak = format_markdown(sample_prefill_report(989.4));
  CHECK(with_peak.find("% of a tensor-core peak of 989.4 TFLOP/s (--tc-peak-tflops).") != std::string::npos);
  CHECK(with_peak.find("| shape | matrix | format | M | rows × cols | mma µs | mma TFLOP/s | mma % of peak | "
                       "mma tile | matmul_q µs | matmul_q TFLOP/s | matmul_q % of peak | speed-up |\n") != std::string::npos);
  CHECK(with_peak.find("| llama-3-8b | attn_q | Q4_0 | 512 | 4096 × 4096 | 100.00 | 171.8 | 17.4% | "
                       "mma.sync 128x128 tile, 2x4 warps | 250.00 | 68.7 | 6.9% | 2.50× |\n") != std::string::npos);
  CHECK(with_peak.ends_with("Q4_K's 256-element blocks | | | | | | | |\n"));
}

TEST_CASE("kernel-bench csv and json: two rows per prefill case, every forced tile policy in the json") {
  const std::string csv = format_csv(sample_prefill_report(989.4));
  CHECK(csv.find("matmul_mma_streams,llama-3-8b,attn_q,4096,4096,Q4_0 packed,,9437184,100.000,,,6,50,,512,171.799,"
                 "17.364,,,,,\n") != std::string::npos);
  CHECK(csv.find("matmul_q_streams,llama-3-8b,attn_q,4096,4096,Q4_0 packed,,9437184,250.000,,,6,50,,512,68.719,"
                 "6.946,,,,,\n") != std::string::npos);
  CHECK(csv.ends_with("matmul_q_streams,smollm2-135m,attn_q,576,576,Q4_K packed,,,,,,,,cols 576 is not a multiple of "
                      "Q4_K's 256-element blocks,512,,,,,,,\n"));
  CHECK(format_csv(sample_prefill_report(0)).find(",512,171.799,,,,,,\n") != std::string::npos);

  const auto doc = nlohmann::json::parse(format_json(sample_prefill_report(989.4)));
  CHECK(doc["tc_peak_tflops"] == 989.4);
  CHECK(doc["prefill_footprint_bytes"] == (50ull << 20));
  REQUIRE(doc["prefill_matmul"].size() == 2);
  const auto& q = doc["prefill_matmul"][0];
  CHECK(q["tokens"] == 512);
  CHECK(q["layout"] == "field-streams");
  CHECK(q["weight_bytes"] == 9437184);
  CHECK(q["copies"] == 6);
  CHECK(q["matmul_mma_streams"]["microseconds"] == 100.0);
  CHECK(q["matmul_mma_streams"]["tflops"].get<double>() == doctest::Approx(171.7987));
  CHECK(q["matmul_mma_streams"]["percent_of_tc_peak"].get<double>() == doctest::Approx(17.364).epsilon(1e-4));
  CHECK(q["matmul_mma_streams"]["policy"] == "mma.sync 128x128 tile, 2x4 warps");
  REQUIRE(q["matmul_mma_streams"]["forced_policies"].size() == 2);
  CHECK(q["matmul_mma_streams"]["forced_policies"][1]["policy"] == "mma.sync 64x128 tile, 1x8 warps");
  CHECK(q["matmul_mma_streams"]["forced_policies"][1]["microseconds"] == 125.0);
  CHECK(q["matmul_q_streams"]["tflops"].get<double>() == doctest::Approx(68.7195));
  CHECK(doc["prefill_matmul"][1]["skipped"] == "cols 576 is not a multiple of Q4_K's 256-element blocks");
  CHECK_FALSE(doc["prefill_matmul"][1].contains("matmul_mma_streams"));
  const auto no_peak = nlohmann::json::parse(format_json(sample_prefill_report(0)));
  CHECK(no_peak["tc_peak_tflops"].is_null());
  CHECK(no_peak["prefill_matmul"][0]["matmul_mma_streams"]["percent_of_tc_peak"].is_null());
}

TEST_CASE("prefill attention cases: the attention shape's heads, q f32 and K and V f16 of each prompt") {
  const auto cases = plan_prefill_attention("llama-3-8b", {512, 2048, 8192});
  REQUIRE(cases.size() == 3);
  CHECK(cases[0].shape == "llama-3-8b");
  CHECK(cases[0].n_heads == 32);
  CHECK(cases[0].n_kv_heads == 8);
  CHECK(cases[0].head_dim == 128);
  CHECK(cases[0].tokens == 512);
  CHECK(cases[0].input_bytes == 512ull * (4 * 4096 + 2 * 2 * 1024));  // 10 MiB
  CHECK(cases[2].tokens == 8192);
  CHECK(cases[2].input_bytes == 160ull << 20);
  CHECK(plan_prefill_attention("llama-3.2-1b", {17}).front().head_dim == 64);
}

TEST_CASE("prefill attention FLOPs: 4 * heads * head_dim per causal (query, key) pair, N (N + 1) / 2 pairs") {
  CHECK(prefill_attention_flops(1, 1, 1) == 4.0);
  CHECK(prefill_attention_flops(1, 1, 3) == 4.0 * 6);
  // 32 heads of 128, 512 tokens: 16384 * 131328 = 2.15 GFLOP; in 100 us, 21.5 TFLOP/s.
  CHECK(prefill_attention_flops(32, 128, 512) == 2151677952.0);
  CHECK(tflops_of(2151677952.0, 100.0) == doctest::Approx(21.51677952));
  CHECK(tflops_of(1.0, 0.0) == 0);
  // 8192 tokens: 4 * 4096 * 8192 * 8193 / 2 = 549.8 GFLOP.
  CHECK(prefill_attention_flops(32, 128, 8192) == doctest::Approx(549.8e9).epsilon(1e-3));
}

namespace {

constexpr SamplerPolicy default_sampler{256, 4, 256, 4, 256};
constexpr SamplerPolicy wide_sampler{256, 8, 512, 8, 256};

}  // namespace

TEST_CASE("sampling cases: every parameter set under the default policy, the block_top_k ones under each other") {
  CHECK(sampler_policy_label(default_sampler) == "prefilter 256x4 / final 256x4");
  const auto& sets = sampling_parameter_sets();
  REQUIRE(sets.size() == 5);
  CHECK(sets[0].name == "defaults");
  CHECK(sets[0].params == runtime::SamplingParams{});
  CHECK(sets[1].params.greedy());
  CHECK(sets[2].params.penalties_active());
  CHECK(sets[3].params.top_k == 0);
  CHECK(sets[4].params.top_k == 256);
  for (const char* name : block_top_k_parameter_sets)
    CHECK(std::ranges::any_of(sets, [&](const NamedSamplingParams& s) { return s.name == name; }));

  const auto cases = plan_sampling(128256, {default_sampler, wide_sampler});
  // Default: 5 sets at 128256 and the final block alone (1024 logits); the
  // other: 3 block_top_k sets at 128256 and its final block alone (4096).
  REQUIRE(cases.size() == 6 + 4);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(cases[i].parameters == sets[i].name);
    CHECK(cases[i].params == sets[i].params);
    CHECK(cases[i].vocab == 128256);
    CHECK(cases[i].default_policy);
  }
  CHECK(cases[5].parameters == "defaults");
  CHECK(cases[5].vocab == 1024);
  CHECK(cases[5].default_policy);
  CHECK(cases[6].policy == wide_sampler);
  CHECK_FALSE(cases[6].default_policy);
  CHECK(cases[6].parameters == "defaults");
  CHECK(cases[7].parameters == "defaults+penalties");
  CHECK(cases[8].parameters == "top_k=256 top_p=0.98");
  CHECK(cases[8].vocab == 128256);
  CHECK(cases[9].vocab == 4096);
  CHECK(std::ranges::all_of(cases, [](const SamplingCase& c) { return c.path.empty() && c.graph_microseconds == 0; }));

  // A vocabulary the final block holds: its "final block alone" case is the same case, planned once.
  CHECK(plan_sampling(1024, {default_sampler}).size() == 5);
  CHECK_THROWS_AS((void)plan_sampling(128256, {}), Error);
}

namespace {

// The 8B shape's prefill attention at 512 tokens (100 us), and the sampler at
// 128256 logits under the default policy and one other.
KernelReport sample_attention_sampling_report(double peak) {
  KernelReport r = sample_h100_report(peak);
  r.prefill_attention = plan_prefill_attention("llama-3-8b", {512});
  r.prefill_attention[0].kernel = "tensor cores (mma.sync)";
  r.prefill_attention[0].microseconds = 100.0;
  r.prefill_attention[0].copies = 5;
  r.sampling = plan_sampling(128256, {default_sampler, wide_sampler});
  double us = 20.0;
  for (SamplingCase& c : r.sampling) {
    c.path = c.parameters == "greedy" ? "greedy" : c.parameters == "top_k=0 top_p=0.9" ? "device_sort" : "block_top_k";
    c.graph_microseconds = us;
    c.stream_microseconds = us + 5;
    us += 1;
  }
  return r;
}

}  // namespace

TEST_CASE("kernel-bench markdown: a prefill attention table, a sampling table per parameter set and per policy") {
  const std::string md = format_markdown(sample_attention_sampling_report(0));
  CHECK(md.find("### prefill attention (kernels::attention_prefill): llama-3-8b, 32 heads, 8 KV heads of 128, "
                "causal from position 0\n\nA replay's q, K and V copies add up to at least 50.00 MiB; TFLOP/s = 4 × "
                "heads × head_dim × N (N + 1) / 2 / time; no tensor-core peak given (--tc-peak-tflops).\n\n"
                "| tokens (N) | kernel | q + K + V | µs | TFLOP/s |\n| ---: | --- | ---: | ---: | ---: |\n"
                "| 512 | tensor cores (mma.sync) | 10.00 MiB | 100.00 | 21.5 |\n") != std::string::npos);
  CHECK(md.find("### sampling (kernels::Sampler): vocabulary 128256, default policy prefilter 256x4 / final 256x4\n")
        != std::string::npos);
  CHECK(md.find("| parameters | path | stream µs | graph µs |\n| --- | --- | ---: | ---: |\n"
                "| defaults | block_top_k | 25.00 | 20.00 |\n| greedy | greedy | 26.00 | 21.00 |\n"
                "| defaults+penalties | block_top_k | 27.00 | 22.00 |\n"
                "| top_k=0 top_p=0.9 | device_sort | 28.00 | 23.00 |\n"
                "| top_k=256 top_p=0.98 | block_top_k | 29.00 | 24.00 |\n\n") != std::string::npos);
  CHECK(md.find("| policy | defaults | defaults+penalties | top_k=256 top_p=0.98 | final block alone |\n"
                "| --- | ---: | ---: | ---: | ---: |\n") != std::string::npos);
  // The default's block_top_k cells are its parameter-table cases; the final block alone is case 5.
  CHECK(md.find("| prefilter 256x4 / final 256x4 (default) | 20.00 | 22.00 | 24.00 | 25.00 (1024 logits) |\n") !=
        std::string::npos);
  CHECK(md.ends_with("| prefilter 256x8 / final 512x8 | 26.00 | 27.00 | 28.00 | 29.00 (4096 logits) |\n"));

  const std::string with_peak = format_markdown(sample_attention_sampling_report(989.4));
  CHECK(with_peak.find("% of a tensor-core peak of 989.4 TFLOP/s (--tc-peak-tflops).\n\n"
                       "| tokens (N) | kernel | q + K + V | µs | TFLOP/s | % of peak |\n") != std::string::npos);
  CHECK(with_peak.find("| 512 | tensor cores (mma.sync) | 10.00 MiB | 100.00 | 21.5 | 2.2% |\n") != std::string::npos);
}

TEST_CASE("kernel-bench csv and json: a row per prefill attention and sampling case, every row the header's width") {
  const auto report = sample_attention_sampling_report(989.4);
  const std::string csv = format_csv(report);
  CHECK(csv.find("attention_prefill,llama-3-8b,,,,F16,,10485760,100.000,,,5,50,,512,21.517,2.175,,,,"
                 "tensor cores (mma.sync),\n") != std::string::npos);
  CHECK(csv.find("sample,,,,,,,,20.000,,,,50,,,,,128256,defaults,prefilter 256x4 / final 256x4,block_top_k,25.000\n") !=
        std::string::npos);
  CHECK(csv.ends_with(
      "sample,,,,,,,,29.000,,,,50,,,,,4096,defaults,prefilter 256x8 / final 512x8,block_top_k,34.000\n"));
  // Every kind of row at once: each line has as many cells as the header.
  KernelReport all = sample_kernel_report();
  all.prefill = sample_prefill_report(989.4).prefill;
  all.prefill_attention = report.prefill_attention;
  all.sampling = report.sampling;
  const std::string every = format_csv(all);
  const auto cells = [](std::string_view line) { return std::ranges::count(line, ',') + 1; };
  const std::string_view text = every;
  const std::size_t header_end = text.find('\n');
  const auto width = cells(text.substr(0, header_end));
  CHECK(width == 22);
  std::size_t rows = 0;
  for (std::size_t begin = header_end + 1; begin < text.size();) {
    const std::size_t end = text.find('\n', begin);
    CHECK(cells(text.substr(begin, end - begin)) == width);
    begin = end + 1;
    ++rows;
  }
  CHECK(rows == all.gemv.size() + all.attention.size() + 2 * all.prefill.size() + all.prefill_attention.size() +
                    all.sampling.size());

  const auto doc = nlohmann::json::parse(format_json(report));
  REQUIRE(doc["prefill_attention"].size() == 1);
  const auto& a = doc["prefill_attention"][0];
  CHECK(a["start"] == 0);
  CHECK(a["tokens"] == 512);
  CHECK(a["n_heads"] == 32);
  CHECK(a["input_bytes"] == 10485760);
  CHECK(a["flops"] == 2151677952.0);
  CHECK(a["kernel"] == "tensor cores (mma.sync)");
  CHECK(a["tflops"].get<double>() == doctest::Approx(21.5168));
  CHECK(a["percent_of_tc_peak"].get<double>() == doctest::Approx(2.1747).epsilon(1e-3));
  CHECK(a["copies"] == 5);
  REQUIRE(doc["sampling"].size() == 10);
  const auto& s = doc["sampling"][2];
  CHECK(s["parameters"] == "defaults+penalties");
  CHECK(s["params"]["repeat_penalty"].get<double>() == doctest::Approx(1.1));
  CHECK(s["policy"]["label"] == "prefilter 256x4 / final 256x4");
  CHECK(s["policy"]["final_block"]["threads"] == 256);
  CHECK(s["policy"]["max_prefilter_k"] == 256);
  CHECK(s["default_policy"] == true);
  CHECK(s["vocab"] == 128256);
  CHECK(s["path"] == "block_top_k");
  CHECK(s["graph_microseconds"] == 22.0);
  CHECK(s["stream_microseconds"] == 27.0);
  CHECK(doc["sampling"][9]["default_policy"] == false);
  CHECK(doc["sampling"][9]["policy"]["prefilter"]["items"] == 8);
  CHECK(nlohmann::json::parse(format_json(sample_attention_sampling_report(0)))["prefill_attention"][0]
            ["percent_of_tc_peak"].is_null());
}
