// The part of a GGUF file that holds tensor bytes: from the data section's
// start to the last tensor's last byte. Every policy places this range as a
// whole (same relative layout, so a tensor keeps the file's alignment under
// every policy) and answers device_pointer(tensor) as base + offset_of(tensor).
// The gaps — bytes inside the range that belong to no tensor, at most
// alignment - 1 each in a well-formed file — are what a loader owning
// writable memory zeroes; no kernel may read them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pagoda/gguf/file.hpp"
#include "pagoda/mapping/byte_range.hpp"

namespace pagoda::mapping {

class WeightSection {
public:
  explicit WeightSection(const gguf::File& file);

  // In file offsets.
  [[nodiscard]] ByteRange file_range() const { return {file_offset_, size_}; }
  [[nodiscard]] std::uint64_t file_offset() const { return file_offset_; }
  [[nodiscard]] std::uint64_t size() const { return size_; }
  // Sum of the tensors' byte sizes (size() minus the gaps).
  [[nodiscard]] std::uint64_t tensor_bytes() const { return tensor_bytes_; }
  // The range's bytes in the file's (read-only) mapping.
  [[nodiscard]] std::span<const std::byte> bytes() const { return bytes_; }
  // Bytes of the range in no tensor, relative to file_offset(), ascending.
  [[nodiscard]] const std::vector<ByteRange>& gaps() const { return gaps_; }
  [[nodiscard]] const std::string& file_name() const { return file_name_; }

  // `tensor`'s offset from file_offset(); throws pagoda::Error naming the
  // tensor and the file when its bytes are not inside this section.
  [[nodiscard]] std::uint64_t offset_of(const gguf::TensorInfo& tensor) const;

private:
  std::string file_name_;
  std::span<const std::byte> bytes_;
  std::uint64_t file_offset_ = 0;
  std::uint64_t size_ = 0;
  std::uint64_t tensor_bytes_ = 0;
  std::vector<ByteRange> gaps_;
};

}  // namespace pagoda::mapping
