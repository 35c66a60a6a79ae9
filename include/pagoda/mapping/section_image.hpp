// A GGUF file's weight section copied into anonymous memory pagoda owns (on
// huge pages where the system offers them), every byte that is not a
// tensor's zeroed while the memory is still writable: HugepageImport's host
// half, apart so the CPU tests can check it byte for byte. The memory mirrors
// the file from the 4 KiB block holding the section's first byte, so
// O_DIRECT reads land in place and tensors keep the file's alignment.
#pragma once

#include <cstddef>
#include <string>

#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/anonymous_mapping.hpp"
#include "pagoda/mapping/capabilities.hpp"
#include "pagoda/mapping/file_reader.hpp"
#include "pagoda/mapping/weight_section.hpp"

namespace pagoda::mapping {

struct SectionImage {
  AnonymousMapping memory;  // writable; the caller seals it
  std::size_t lead_bytes;   // where the section starts inside `memory`
  ReadReport read;
  std::string read_choice;  // why buffered or direct, when ReadMode::automatic chose
};

// ReadMode::automatic reads buffered when at least half the section is in
// the page cache (copying from RAM beats re-reading the disk: 4 GiB in ~0.3 s
// against 2.5 s with O_DIRECT on the H100 machine), and O_DIRECT otherwise.
// Throws pagoda::Error for an empty section, or when memory or the read fail.
[[nodiscard]] SectionImage read_section_image(const gguf::MappedFile& file, const WeightSection& section,
                                              const AnonymousRequest& request, const ReadOptions& read,
                                              const OsCapabilities& os);

}  // namespace pagoda::mapping
