// pagoda-batch-bench: how the batched decode step scales with the number of
// sequences decoding together, on one CUDA engine under device-copy.
//
//   pagoda-batch-bench -m MODEL [--streams 1,2,4,8,16] [-n 128] [-d 128] [--ttft-prompt 512] [--ttft-streams 8]
//
// For each stream count N: N sequences each prefilled with the same-length
// random context (-d, untimed), then -n steps in which all N decode one
// token each (engine.step: one forward over N rows, every weight read once);
// aggregate t/s = N x n / seconds, beside N = 1's. Then the time to first
// token of a --ttft-prompt prompt: alone (an idle engine's prefill), and as
// a prompt item in a step beside --ttft-streams decoding sequences (the
// server's continuous batching runs exactly that step). Markdown on stdout.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/device_copy.hpp"
#include "pagoda/runtime/engine.hpp"

namespace po = boost::program_options;
using namespace pagoda;
using Clock = std::chrono::steady_clock;
using Engine = runtime::Engine<mapping::DeviceCopy>;

namespace {

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<std::int32_t> random_tokens(std::mt19937_64& rng, std::uint32_t vocab, std::size_t count) {
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab) - 1);
  std::vector<std::int32_t> tokens(count);
  for (auto& t : tokens) t = id(rng);
  return tokens;
}

std::vector<std::uint32_t> parse_list(const std::string& text) {
  std::vector<std::uint32_t> values;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    const unsigned long value = std::stoul(item);
    if (value == 0 || value > 4096) fail("--streams: {} is not a stream count in 1..4096", item);
    values.push_back(static_cast<std::uint32_t>(value));
  }
  if (values.empty()) fail("--streams: no stream count");
  return values;
}

// `steps` steps of every sequence decoding one token (after a `depth` context
// each), all in one step call (together) or a step call per sequence; seconds.
double decode_steps(Engine& engine, std::uint32_t streams, std::size_t depth, std::size_t steps,
                    std::mt19937_64& rng, bool together) {
  const std::uint32_t vocab = engine.config().vocab_size;
  std::vector<std::vector<std::int32_t>> contexts;
  std::vector<runtime::SequenceStep> items;
  for (std::uint32_t s = 0; s < streams; ++s) {
    engine.rewind_sequence(s, 0);
    contexts.push_back(random_tokens(rng, vocab, depth));
  }
  for (std::uint32_t s = 0; s < streams; ++s) items.push_back({s, contexts[s]});
  engine.step(items);
  std::vector<std::int32_t> last(streams);
  for (std::uint32_t s = 0; s < streams; ++s) last[s] = items[s].next;
  std::vector<runtime::SequenceStep> decode(streams);
  const auto start = Clock::now();
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::uint32_t s = 0; s < streams; ++s) decode[s] = {s, std::span(&last[s], 1)};
    if (together) {
      engine.step(decode);
    } else {
      for (std::uint32_t s = 0; s < streams; ++s) engine.step(std::span(&decode[s], 1));
    }
    for (std::uint32_t s = 0; s < streams; ++s) last[s] = decode[s].next;
  }
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) try {
  std::string model, streams_text;
  std::size_t steps = 128, depth = 128, ttft_prompt = 512;
  std::uint32_t ttft_streams = 8, repetitions = 2;
  po::options_description flags("pagoda-batch-bench");
  flags.add_options()("help,h", "this text")("model,m", po::value(&model)->required(), "GGUF file")(
      "streams", po::value(&streams_text)->default_value("1,2,4,8,16"), "sequences decoding together, a list")(
      "n-gen,n", po::value(&steps)->default_value(128), "decode steps timed")(
      "depth,d", po::value(&depth)->default_value(128), "context each sequence holds first (untimed)")(
      "ttft-prompt", po::value(&ttft_prompt)->default_value(512),
      "prompt tokens of the time-to-first-token test (0: none)")(
      "ttft-streams", po::value(&ttft_streams)->default_value(8), "sequences decoding beside that prompt")(
      "repetitions,r", po::value(&repetitions)->default_value(2), "runs of each test (the best counts)");
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, flags), vm);
  if (vm.count("help")) {
    std::cout << flags << '\n';
    return 0;
  }
  po::notify(vm);
  const std::vector<std::uint32_t> streams = parse_list(streams_text);
  if (steps == 0 || repetitions == 0) fail("-n and -r must be positive");
  const std::uint32_t most = std::max(*std::max_element(streams.begin(), streams.end()), ttft_streams + 1);
  const auto file = gguf::MappedFile::open(model);
  const auto context = static_cast<std::uint32_t>(std::max(depth + steps + 1, ttft_prompt + 1));
  Engine engine(*file, {}, {.context_size = context, .sequences = most});
  std::mt19937_64 rng(1234);

  fmt::print("| model | streams | depth | aggregate t/s | per stream t/s | vs 1 stream | one step call a sequence, "
             "t/s |\n");
  fmt::print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  double one = 0;
  const std::string name = std::filesystem::path(model).filename().string();
  const auto best_of = [&](std::uint32_t n, bool together) {
    double best = 1e30;
    for (std::uint32_t r = 0; r < repetitions + 1; ++r) {  // the first run warms up (graph capture)
      const double seconds = decode_steps(engine, n, depth, steps, rng, together);
      if (r > 0) best = std::min(best, seconds);
    }
    return static_cast<double>(n * steps) / best;
  };
  for (const std::uint32_t n : streams) {
    const double aggregate = best_of(n, true);
    if (n == 1) one = aggregate;
    const double apart = n > 1 && n <= 4 ? best_of(n, false) : 0.0;  // where the crossover can be
    fmt::print("| {} | {} | {} | {:.1f} | {:.1f} | {} | {} |\n", name, n, depth, aggregate, aggregate / n,
               one > 0 ? fmt::format("{:.2f}x", aggregate / one) : std::string("-"),
               apart > 0 ? fmt::format("{:.1f}", apart) : std::string("-"));
  }
  if (ttft_prompt > 0) {
    const std::uint32_t vocab = engine.config().vocab_size;
    const auto prompt = random_tokens(rng, vocab, ttft_prompt);
    double idle = 1e30, busy = 1e30;
    for (std::uint32_t r = 0; r < repetitions + 1; ++r) {
      engine.rewind_sequence(ttft_streams, 0);
      std::vector<runtime::SequenceStep> alone{{ttft_streams, prompt}};
      const auto start = Clock::now();
      engine.step(alone);
      if (r > 0) idle = std::min(idle, seconds_since(start));
      (void)decode_steps(engine, ttft_streams, depth, 1, rng, true);  // ttft_streams sequences mid-decode
      engine.rewind_sequence(ttft_streams, 0);
      std::vector<std::int32_t> last(ttft_streams, 1);
      std::vector<runtime::SequenceStep> joined;
      for (std::uint32_t s = 0; s < ttft_streams; ++s) joined.push_back({s, std::span(&last[s], 1)});
      joined.push_back({ttft_streams, prompt});
      const auto joined_start = Clock::now();
      engine.step(joined);
      if (r > 0) busy = std::min(busy, seconds_since(joined_start));
    }
    fmt::print("\n| model | prompt | time to first token, idle | beside {} decoding streams | ratio |\n", ttft_streams);
    fmt::print("| --- | ---: | ---: | ---: | ---: |\n");
    fmt::print("| {} | {} | {:.2f} ms | {:.2f} ms | {:.2f}x |\n", name, ttft_prompt, 1e3 * idle, 1e3 * busy,
               busy / idle);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "pagoda-batch-bench: %s\n", e.what());
  return 1;
}
