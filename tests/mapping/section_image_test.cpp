// The host half of HugepageImport: the weight section copied into memory
// pagoda owns, tensors byte for byte, everything else zero, then sealed.
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

#include "mapping_fixtures.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/capability_presets.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/mapping/section_image.hpp"

using namespace pagoda::mapping;
using pagoda::gguf::MappedFile;
using pagoda::mapping::testing::ScratchDir;
using pagoda::mapping::testing::write_test_model;

namespace {

OsCapabilities no_hugetlb_pages() { return presets::x86_host(16ull << 30); }

// Every byte of `image` that is not a tensor's is zero; every tensor's bytes are the file's.
void check_image(const SectionImage& image, const WeightSection& section, const pagoda::gguf::File& gguf) {
  const std::span<const std::byte> all = image.memory.mapped_bytes();
  std::vector<bool> is_tensor(all.size(), false);
  for (const auto& tensor : gguf.tensors()) {
    const std::size_t at = image.lead_bytes + section.offset_of(tensor);
    CHECK(std::ranges::equal(all.subspan(at, tensor.byte_size), tensor.bytes));
    std::fill_n(is_tensor.begin() + static_cast<std::ptrdiff_t>(at), tensor.byte_size, true);
  }
  std::size_t nonzero_padding = 0;
  for (std::size_t i = 0; i < all.size(); ++i)
    if (!is_tensor[i] && all[i] != std::byte{0}) ++nonzero_padding;
  CHECK(nonzero_padding == 0);
}

}  // namespace

TEST_CASE("the section image holds every tensor byte for byte and zero everywhere else") {
  ScratchDir dir;
  for (const std::uint32_t alignment : {32u, 64u, 4096u}) {
    CAPTURE(alignment);
    const auto file = MappedFile::open(write_test_model(dir.path() / "m.gguf", {.alignment = alignment}));
    const WeightSection section(file->gguf());
    ReadOptions direct;
    direct.mode = ReadMode::direct_preferred;
    const SectionImage image = read_section_image(*file, section, {}, direct, no_hugetlb_pages());
    CHECK(image.lead_bytes == section.file_offset() % direct_io_alignment);
    CHECK(reinterpret_cast<std::uintptr_t>(image.memory.bytes().data() + image.lead_bytes) % alignment % 4096 == 0);
    check_image(image, section, file->gguf());
    CHECK((image.read.direct || !image.read.fallback.empty()));
  }
}

TEST_CASE("padding the file fills with garbage is zero in the image; the file mapping is never written") {
  ScratchDir dir;
  const auto path = write_test_model(dir.path() / "m.gguf", {.alignment = 64});
  std::vector<ByteRange> gaps;
  std::uint64_t section_offset = 0;
  {
    const auto original = MappedFile::open(path);
    const WeightSection section(original->gguf());
    gaps = section.gaps();
    section_offset = section.file_offset();
  }
  REQUIRE_FALSE(gaps.empty());
  {
    std::fstream out(path, std::ios::in | std::ios::out | std::ios::binary);
    for (const ByteRange& gap : gaps) {
      out.seekp(static_cast<std::streamoff>(section_offset + gap.offset));
      const std::string garbage(gap.size, '\xAA');
      out.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
  }
  testing::sync_file(path);
  const auto file = MappedFile::open(path);  // PROT_READ: any write through it would kill this process
  const WeightSection section(file->gguf());
  CHECK(section.bytes()[gaps.front().offset] == std::byte{0xAA});
  ReadOptions buffered;
  buffered.mode = ReadMode::buffered;
  ReadOptions direct;
  direct.mode = ReadMode::direct_preferred;
  for (const ReadOptions& read : {direct, buffered}) {
    const SectionImage image = read_section_image(*file, section, {}, read, no_hugetlb_pages());
    check_image(image, section, file->gguf());
  }
  CHECK(section.bytes()[gaps.front().offset] == std::byte{0xAA});  // the file is as it was
}

TEST_CASE("after sealing, the image cannot be written: a forked child's write dies with SIGSEGV") {
  ScratchDir dir;
  const auto file = MappedFile::open(write_test_model(dir.path() / "m.gguf"));
  const WeightSection section(file->gguf());
  SectionImage image = read_section_image(*file, section, {}, {}, no_hugetlb_pages());
  const std::size_t lead = image.lead_bytes;
  const ReadOnlyAnonymousMapping sealed = std::move(image.memory).seal();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::signal(SIGSEGV, SIG_DFL);  // not doctest's crash reporter: die of it
    *const_cast<volatile std::byte*>(sealed.bytes().data() + lead) = std::byte{1};
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGSEGV);
  CHECK(std::ranges::equal(sealed.bytes().subspan(lead, section.size()).first(16), section.bytes().first(16)));
}

TEST_CASE("automatic reads copy a file the page cache holds, and read a cold one directly") {
  ScratchDir dir;
  const auto file = MappedFile::open(write_test_model(dir.path() / "m.gguf", {.big_f32_elements = 1'000'000}));
  const WeightSection section(file->gguf());
  const SectionImage warm = read_section_image(*file, section, {}, {}, no_hugetlb_pages());
  CHECK_FALSE(warm.read.direct);
  CHECK(warm.read.fallback.empty());
  CHECK(warm.read_choice.find("buffered reads") != std::string::npos);
  check_image(warm, section, file->gguf());

  (void)release_page_cache(file->mapping(), section.file_range());
  const SectionImage cold = read_section_image(*file, section, {}, {}, no_hugetlb_pages());
  CHECK(cold.read_choice.find("direct reads") != std::string::npos);
  CHECK((cold.read.direct || !cold.read.fallback.empty()));
  check_image(cold, section, file->gguf());
}

TEST_CASE("a file without tensors has no image to read") {
  ScratchDir dir;
  pagoda::gguf::Writer writer;
  writer.add("general.architecture", "test");
  writer.write(dir.path() / "empty.gguf");
  const auto file = MappedFile::open(dir.path() / "empty.gguf");
  const WeightSection section(file->gguf());
  CHECK(section.size() == 0);
  CHECK_THROWS_AS((void)read_section_image(*file, section, {}, {}, no_hugetlb_pages()), pagoda::Error);
}
