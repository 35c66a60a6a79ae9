// Where gguf::Writer's bytes go: a byte vector, or a file written through a
// fixed buffer. Private to src/gguf.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/writer.hpp"

namespace pagoda::gguf {

class Writer::Sink {
public:
  virtual ~Sink() = default;
  virtual void append(std::span<const std::byte> bytes) = 0;
  virtual void append_zeros(std::uint64_t count) = 0;
  virtual void append_filled(std::uint64_t count, const TensorFill& fill) = 0;
  [[nodiscard]] std::uint64_t written() const { return written_; }

protected:
  std::uint64_t written_ = 0;
};

// Appends to a vector; fill callbacks write straight into it.
class VectorSink final : public Writer::Sink {
public:
  explicit VectorSink(std::vector<std::byte>& out) : out_(out) {}
  void append(std::span<const std::byte> bytes) override {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    written_ += bytes.size();
  }
  void append_zeros(std::uint64_t count) override {
    out_.resize(out_.size() + count);
    written_ += count;
  }
  void append_filled(std::uint64_t count, const TensorFill& fill) override {
    const auto at = out_.size();
    out_.resize(at + count);
    fill(0, std::span<std::byte>(out_.data() + at, count));
    written_ += count;
  }

private:
  std::vector<std::byte>& out_;
};

// Writes through a fixed buffer; spans larger than the buffer go straight to
// the file. Fill callbacks write into the buffer itself: no second copy.
class FileSink final : public Writer::Sink {
public:
  FileSink(int fd, std::string path) : fd_(fd), path_(std::move(path)), buffer_(buffer_bytes) {}

  void append(std::span<const std::byte> bytes) override {
    if (bytes.size() >= buffer_.size()) {
      flush();
      write_all(bytes);
    } else {
      if (used_ + bytes.size() > buffer_.size()) flush();
      std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
      used_ += bytes.size();
    }
    written_ += bytes.size();
  }

  void append_zeros(std::uint64_t count) override {
    written_ += count;
    while (count != 0) {
      if (used_ == buffer_.size()) flush();
      const auto n = std::min<std::uint64_t>(count, buffer_.size() - used_);
      std::memset(buffer_.data() + used_, 0, n);
      used_ += n;
      count -= n;
    }
  }

  void append_filled(std::uint64_t count, const TensorFill& fill) override {
    for (std::uint64_t offset = 0; offset < count;) {
      if (used_ == buffer_.size()) flush();
      const auto n = std::min<std::uint64_t>(count - offset, buffer_.size() - used_);
      fill(offset, std::span<std::byte>(buffer_.data() + used_, n));
      used_ += n;
      offset += n;
    }
    written_ += count;
  }

  void flush() {
    write_all(std::span<const std::byte>(buffer_.data(), used_));
    used_ = 0;
  }

private:
  static constexpr std::size_t buffer_bytes = std::size_t{4} << 20;

  void write_all(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
      const auto n = ::write(fd_, bytes.data(), std::min<std::size_t>(bytes.size(), std::size_t{1} << 30));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail("{}: cannot write: {}", path_, n < 0 ? std::strerror(errno) : "no progress");
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
  }

  int fd_;
  std::string path_;
  std::vector<std::byte> buffer_;
  std::size_t used_ = 0;
};

}  // namespace pagoda::gguf
