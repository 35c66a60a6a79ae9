// Shared by the mapping tests (CPU, tests/mapping) and the policy tests (GPU,
// tests/gpu/mapping_*): a scratch directory, and small GGUF files with one
// tensor per quant format, odd shapes, seeded random (finite) blocks and
// gaps between tensors, written with gguf::Writer and synced to disk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "pagoda/core/error.hpp"
#include "pagoda/core/type_list.hpp"
#include "pagoda/gguf/writer.hpp"
#include "pagoda/quant/format_list.hpp"
#include "quant/random_blocks.hpp"

#include "support/scratch_dir.hpp"

namespace pagoda::mapping::testing {

using pagoda::test::ScratchDir;

// Flushes a written file to disk, so its page-cache pages are clean (and
// posix_fadvise(DONTNEED) can drop them).
inline void sync_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error("cannot open " + path.string());
  ::fsync(fd);
  ::close(fd);
}

struct TestModelShape {
  std::uint32_t alignment = 32;
  std::uint64_t rows = 3;                // odd, so sizes are not round
  std::uint64_t blocks_per_row = 5;
  std::uint32_t seed = 17;
  std::uint64_t big_f32_elements = 0;    // adds a tensor this large (to span many pages / chunks)
};

// One tensor `t.<format>` of every listed format, (rows, blocks_per_row *
// block_elements) each, plus an optional large F32 tensor. With blocks of
// 18, 20, 22, ... bytes most tensors leave a gap before the next aligned one.
inline std::filesystem::path write_test_model(const std::filesystem::path& path, const TestModelShape& shape = {}) {
  gguf::Writer writer;
  writer.set_alignment(shape.alignment);
  writer.add("general.architecture", "test");
  writer.add("general.name", "pagoda mapping test model");
  std::mt19937 rng(shape.seed);
  for_each_type(quant::formats{}, [&](auto tag) {
    using F = typename decltype(tag)::type;
    const std::uint64_t row_elements = shape.blocks_per_row * F::block_elements;
    const auto bytes = quant::testing::random_blocks<F>(shape.rows * shape.blocks_per_row, rng);
    writer.add_tensor(std::string("t.") + std::string(F::name), {row_elements, shape.rows}, F::id,
                      std::span<const std::byte>(bytes));
  });
  if (shape.big_f32_elements != 0) {
    const std::uint32_t seed = shape.seed;
    writer.add_tensor("big.f32", {shape.big_f32_elements}, gguf::TensorType::F32,
                      [seed](std::uint64_t offset, std::span<std::byte> out) {
                        // Finite floats in [-1, 1) as a function of the element index.
                        for (std::size_t i = 0; i < out.size(); ++i) {
                          const std::uint64_t byte = offset + i;
                          const std::uint64_t element = byte / 4;
                          const auto value = static_cast<float>(static_cast<std::int64_t>((element * 2654435761u + seed) % 2001) - 1000) / 1000.0f;
                          std::byte bytes[4];
                          std::memcpy(bytes, &value, 4);
                          out[i] = bytes[byte % 4];
                        }
                      });
  }
  writer.write(path);
  sync_file(path);
  return path;
}

}  // namespace pagoda::mapping::testing
