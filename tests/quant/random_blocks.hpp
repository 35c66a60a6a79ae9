// Random blocks of any format, for the generic tests (host and GPU): random
// bytes, redrawn until every element decodes to a finite value. Random f16
// scales are inf or NaN one time in 32, and NaN payloads are not comparable
// bit for bit across host and device; everything else (subnormal scales, huge
// scales, every bit pattern of the quants) is kept.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

#include <pagoda/core/type_list.hpp>
#include <pagoda/quant/format.hpp>

namespace pagoda::quant::testing {

template <QuantFormat F>
typename F::block random_block(std::mt19937& rng) {
  std::uniform_int_distribution<int> byte(0, 255);
  unsigned char bytes[F::block_bytes];
  float values[F::block_elements];
  typename F::block block;
  for (;;) {
    for (auto& b : bytes) b = static_cast<unsigned char>(byte(rng));
    std::memcpy(&block, bytes, F::block_bytes);
    F::dequantize_block(block, values);
    bool finite = true;
    for (float v : values) finite = finite && std::isfinite(v);
    if (finite) return block;
  }
}

// n_blocks random blocks laid out as in a tensor.
template <QuantFormat F>
std::vector<std::byte> random_blocks(std::size_t n_blocks, std::mt19937& rng) {
  std::vector<std::byte> bytes(n_blocks * F::block_bytes);
  for (std::size_t i = 0; i < n_blocks; ++i) {
    const typename F::block block = random_block<F>(rng);
    std::memcpy(bytes.data() + i * F::block_bytes, &block, F::block_bytes);
  }
  return bytes;
}

// A doctest-friendly std::tuple of the formats in a type_list.
template <class List>
struct as_tuple;
template <class... Fs>
struct as_tuple<type_list<Fs...>> {
  using type = std::tuple<Fs...>;
};

}  // namespace pagoda::quant::testing
