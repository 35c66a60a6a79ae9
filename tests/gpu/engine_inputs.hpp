// What the engine-level GPU tests feed and compare: random token ids, a
// prompt and its greedy (or fed) decode steps with every step's logits, and
// logits equal bit for bit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace pagoda::gpu_test {

inline std::vector<std::int32_t> random_prompt(std::size_t length, std::uint32_t vocab, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab) - 1);
  std::vector<std::int32_t> prompt(length);
  for (auto& token : prompt) token = id(rng);
  return prompt;
}

// A prompt, then `steps` decodes of an engine (runtime::Engine<P>), every
// step's logits kept: each step is fed the token before it, or feed[t]
// (teacher forcing, so that a near tie cannot send two engines apart).
struct Run {
  std::vector<std::int32_t> tokens;  // the prompt's answer, then each step's
  std::vector<std::vector<float>> logits;
};
template <class Engine>
Run run(Engine& engine, const std::vector<std::int32_t>& prompt, std::size_t steps,
        const std::vector<std::int32_t>* feed = nullptr) {
  Run r;
  r.tokens.push_back(engine.prefill(prompt));
  for (std::size_t t = 0; t < steps; ++t) {
    const std::int32_t in = feed != nullptr ? (*feed)[t] : r.tokens.back();
    r.tokens.push_back(engine.decode(in));
    r.logits.push_back(engine.logits());
  }
  return r;
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace pagoda::gpu_test
