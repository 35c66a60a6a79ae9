#include "pagoda/mapping/section_image.hpp"

#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/byte_text.hpp"
#include "pagoda/mapping/page_cache.hpp"

namespace pagoda::mapping {

SectionImage read_section_image(const gguf::MappedFile& file, const WeightSection& section,
                                const AnonymousRequest& request, const ReadOptions& read, const OsCapabilities& os) {
  if (section.size() == 0) fail("{}: no tensor bytes to read", section.file_name());
  const std::uint64_t first = align_down(section.file_offset(), direct_io_alignment);
  const auto lead = static_cast<std::size_t>(section.file_offset() - first);
  AnonymousMapping memory = AnonymousMapping::allocate(lead + section.size(), request, os);
  ReadOptions chosen = read;
  std::string choice;
  if (read.mode == ReadMode::automatic) {
    const std::uint64_t resident = resident_bytes(section.bytes());
    const bool warm = 2 * resident >= section.size();
    chosen.mode = warm ? ReadMode::buffered : ReadMode::direct_preferred;
    choice = fmt::format("{} of {} in the page cache: {}", bytes_text(resident), bytes_text(section.size()),
                         warm ? "buffered reads" : "direct reads");
  }
  ReadReport report = read_file_range(file.mapping().fd(), section.file_name(), first, memory.bytes(), chosen);

  // Kernels never read these bytes; zero is the only value a loader can
  // vouch for (the file's own padding, or metadata before the section).
  const std::span<std::byte> all = memory.mapped_bytes();
  std::memset(all.data(), 0, lead);
  for (const ByteRange& gap : section.gaps()) std::memset(all.data() + lead + gap.offset, 0, gap.size);
  const std::size_t end = lead + section.size();
  std::memset(all.data() + end, 0, all.size() - end);
  return SectionImage{std::move(memory), lead, std::move(report), std::move(choice)};
}

}  // namespace pagoda::mapping
