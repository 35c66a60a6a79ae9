// WeightSection: the range every policy places, its gaps, and the offsets
// device_pointer() is built on.
#include <doctest/doctest.h>

#include <algorithm>

#include "mapping_fixtures.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/weight_section.hpp"

using namespace pagoda::mapping;
using pagoda::gguf::MappedFile;
using pagoda::mapping::testing::ScratchDir;
using pagoda::mapping::testing::write_test_model;

TEST_CASE("the weight section runs from the data section to the last tensor byte, gaps excluded") {
  ScratchDir dir;
  const auto file = MappedFile::open(write_test_model(dir.path() / "m.gguf", {.alignment = 64}));
  const pagoda::gguf::File& gguf = file->gguf();
  const WeightSection section(gguf);

  CHECK(section.file_offset() == gguf.data_offset());
  std::uint64_t tensor_bytes = 0;
  std::uint64_t last_end = 0;
  for (const auto& t : gguf.tensors()) {
    tensor_bytes += t.byte_size;
    last_end = std::max(last_end, t.data_offset + t.byte_size);
    // Each tensor's offset is where the file has it, and its bytes are the file's.
    CHECK(section.offset_of(t) == t.data_offset);
    CHECK(section.bytes().data() + section.offset_of(t) == t.bytes.data());
  }
  CHECK(section.size() == last_end);
  CHECK(section.tensor_bytes() == tensor_bytes);
  std::uint64_t gap_bytes = 0;
  for (const ByteRange& gap : section.gaps()) {
    CHECK(gap.size > 0);
    CHECK(gap.size < 64);  // at most alignment - 1 between tensors
    gap_bytes += gap.size;
  }
  CHECK_FALSE(section.gaps().empty());  // the odd shapes leave gaps
  CHECK(gap_bytes + tensor_bytes == section.size());
}

TEST_CASE("offset_of refuses a tensor of another file, naming it") {
  ScratchDir dir;
  const auto a = MappedFile::open(write_test_model(dir.path() / "a.gguf"));
  const auto b = MappedFile::open(write_test_model(dir.path() / "b.gguf"));
  const WeightSection section(a->gguf());
  CHECK_THROWS_WITH_AS((void)section.offset_of(b->gguf().tensors().front()), doctest::Contains("t.F32"),
                       pagoda::Error);
}

TEST_CASE("page arithmetic covers whole pages") {
  CHECK(page_cover({4097, 10}, 4096) == ByteRange{4096, 4096});
  CHECK(page_cover({4096, 4096}, 4096) == ByteRange{4096, 4096});
  CHECK(page_cover({4095, 2}, 4096) == ByteRange{0, 8192});
  CHECK(align_up(0, 4096) == 0);
  CHECK(align_down(8191, 4096) == 4096);
}
