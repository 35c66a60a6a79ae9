// Reading a range of a file into memory pagoda owns, at the disk's speed and
// without leaving a second copy in the page cache: O_DIRECT reads (several in
// flight) straight into the destination where the filesystem and alignment
// allow, else ordinary pread with the reason reported. Used by
// HugepageImport to fill its anonymous memory from the GGUF file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pagoda::mapping {

// O_DIRECT needs the file offset, the buffer address and the length aligned
// to the device's logical block; 4 KiB covers every common device.
inline constexpr std::uint64_t direct_io_alignment = 4096;

enum class ReadMode : std::uint8_t {
  // Callers that can see the page cache choose (see read_section_image):
  // buffered when the file is mostly resident, direct otherwise.
  // read_file_range itself treats it as direct_preferred.
  automatic,
  direct_preferred,
  buffered,
};

struct ReadOptions {
  ReadMode mode = ReadMode::automatic;
  unsigned threads = 4;                     // reads in flight
  std::size_t chunk_bytes = std::size_t{16} << 20;  // per read call
};

struct ReadReport {
  bool direct = false;
  std::string fallback;  // why buffered reads were used although direct was preferred
  std::uint64_t bytes = 0;
  double seconds = 0;
};

// Copies bytes [file_offset, file_offset + destination.size()) of the open
// file `fd` (named `name` in messages) into `destination`. Direct I/O reopens
// the same file (/proc/self/fd) with O_DIRECT; it needs file_offset and
// destination.data() aligned to direct_io_alignment. Throws pagoda::Error on
// an I/O error or when the file ends early.
ReadReport read_file_range(int fd, std::string_view name, std::uint64_t file_offset,
                           std::span<std::byte> destination, const ReadOptions& options = {});

}  // namespace pagoda::mapping
