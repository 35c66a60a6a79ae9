#include "pagoda/mapping/weight_section.hpp"

#include <algorithm>
#include <cstdint>

#include "pagoda/core/error.hpp"

namespace pagoda::mapping {

WeightSection::WeightSection(const gguf::File& file)
    : file_name_(file.name()), file_offset_(file.data_offset()) {
  const std::byte* const file_begin = file.bytes().data();
  std::vector<ByteRange> tensors;  // relative to file_offset_
  tensors.reserve(file.tensors().size());
  for (const gguf::TensorInfo& tensor : file.tensors()) {
    const auto at = static_cast<std::uint64_t>(tensor.bytes.data() - file_begin);
    if (at < file_offset_)
      fail("{}: tensor `{}` starts at byte {}, before the data section at {}", file_name_, tensor.name, at,
           file_offset_);
    tensors.push_back({at - file_offset_, tensor.byte_size});
    tensor_bytes_ += tensor.byte_size;
  }
  std::ranges::sort(tensors, {}, &ByteRange::offset);
  std::uint64_t covered = 0;  // end of the tensors seen so far
  for (const ByteRange& t : tensors) {
    if (t.offset > covered) gaps_.push_back({covered, t.offset - covered});
    covered = std::max(covered, t.end());
  }
  size_ = covered;
  bytes_ = file.bytes().subspan(file_offset_, size_);
}

std::uint64_t WeightSection::offset_of(const gguf::TensorInfo& tensor) const {
  // Compared as integers: the tensor may point into another file altogether.
  const auto at = reinterpret_cast<std::uintptr_t>(tensor.bytes.data());
  const auto begin = reinterpret_cast<std::uintptr_t>(bytes_.data());
  if (at < begin || at - begin > size_ || tensor.byte_size > size_ - (at - begin))
    fail("tensor `{}` is not in the weight section of {}: was it read from another file?", tensor.name,
         file_name_);
  return at - begin;
}

}  // namespace pagoda::mapping
