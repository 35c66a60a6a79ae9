// A whole file mapped PROT_READ | MAP_PRIVATE. Its bytes are const in the type:
// nothing in pagoda may write through this mapping (a write would SIGSEGV —
// the failure the hugepage-import loader hit; see docs/architecture.md).
// Owns the mapping (munmap on destruction); movable, not copyable.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>

namespace pagoda::mapping {

class ReadOnlyFile {
public:
  // Opens and maps `path`; throws pagoda::Error naming the path and the OS error.
  explicit ReadOnlyFile(const std::filesystem::path& path);
  ~ReadOnlyFile();

  ReadOnlyFile(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile& operator=(ReadOnlyFile&& other) noexcept;
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;

  [[nodiscard]] std::span<const std::byte> bytes() const { return {data_, size_}; }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] int fd() const { return fd_; }

private:
  void release() noexcept;

  std::filesystem::path path_;
  int fd_ = -1;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace pagoda::mapping
