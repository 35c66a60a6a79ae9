// What the engine-level GPU tests feed and compare: random token ids, and
// logits equal bit for bit.
#pragma once

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

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace pagoda::gpu_test
