// A GGUF file opened from disk: the read-only mapping and the parsed view over
// it, kept together so the view can never outlive its bytes.
#pragma once

#include <filesystem>
#include <memory>

#include "pagoda/gguf/file.hpp"
#include "pagoda/mapping/read_only_file.hpp"

namespace pagoda::gguf {

class MappedFile {
public:
  // Maps and parses `path`; throws pagoda::Error with the path and the cause.
  static std::unique_ptr<MappedFile> open(const std::filesystem::path& path) {
    return std::unique_ptr<MappedFile>(new MappedFile(path));
  }

  [[nodiscard]] const File& gguf() const { return file_; }
  [[nodiscard]] const mapping::ReadOnlyFile& mapping() const { return mapping_; }

private:
  explicit MappedFile(const std::filesystem::path& path)
      : mapping_(path), file_(File::parse(mapping_.bytes(), path.string())) {}

  mapping::ReadOnlyFile mapping_;
  File file_;
};

}  // namespace pagoda::gguf
