#include "pagoda/mapping/file_reader.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::mapping {

namespace {

std::string errno_text(int error) { return fmt::format("{} ({})", std::strerror(error), error); }

// A file descriptor closed on destruction.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  [[nodiscard]] int get() const { return fd_; }

private:
  int fd_;
};

// Where and why a read stopped short.
struct ReadFailure {
  int error;  // 0: the file ended early
  std::uint64_t at;
};

// Reads all of [file_offset, file_offset + size), retrying short reads.
std::optional<ReadFailure> pread_fully(int fd, std::byte* destination, std::uint64_t size,
                                       std::uint64_t file_offset) {
  std::uint64_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd, destination + done, size - done, static_cast<off_t>(file_offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ReadFailure{errno, file_offset + done};
    if (got == 0) return ReadFailure{0, file_offset + done};
    done += static_cast<std::uint64_t>(got);
  }
  return std::nullopt;
}

// Reads [0, size) in chunks on `threads` threads; the first failure wins.
std::optional<ReadFailure> parallel_read(int fd, std::byte* destination, std::uint64_t size,
                                         std::uint64_t file_offset, const ReadOptions& options) {
  const std::uint64_t chunk = std::max<std::uint64_t>(options.chunk_bytes / direct_io_alignment, 1) *
                              direct_io_alignment;
  const std::uint64_t chunks = (size + chunk - 1) / chunk;
  std::atomic<std::uint64_t> next{0};
  std::mutex failure_mutex;
  std::optional<ReadFailure> failure;
  const auto worker = [&] {
    for (std::uint64_t i = next++; i < chunks; i = next++) {
      const std::uint64_t at = i * chunk;
      if (auto f = pread_fully(fd, destination + at, std::min(chunk, size - at), file_offset + at)) {
        const std::scoped_lock lock(failure_mutex);
        if (!failure || f->at < failure->at) failure = f;
        next = chunks;  // stop the others early
      }
    }
  };
  const unsigned thread_count =
      static_cast<unsigned>(std::clamp<std::uint64_t>(options.threads, 1, std::max<std::uint64_t>(chunks, 1)));
  std::vector<std::jthread> threads;
  threads.reserve(thread_count - 1);
  for (unsigned t = 1; t < thread_count; ++t) threads.emplace_back(worker);
  worker();
  threads.clear();  // joins
  return failure;
}

[[noreturn]] void fail_read(std::string_view name, const ReadFailure& failure, std::string_view how) {
  if (failure.error == 0) fail("{}: the file ends at byte {}, inside the range being read ({})", name, failure.at, how);
  fail("{}: {} read at byte {} failed: {}", name, how, failure.at, errno_text(failure.error));
}

// Why O_DIRECT cannot be used for this read, or nullopt with `direct_fd` open.
std::optional<std::string> open_direct(int fd, std::uint64_t file_offset, const std::byte* destination,
                                       std::optional<FileDescriptor>& direct_fd) {
  if (file_offset % direct_io_alignment != 0 ||
      reinterpret_cast<std::uintptr_t>(destination) % direct_io_alignment != 0)
    return fmt::format("the file offset {} or the destination is not {}-byte aligned", file_offset,
                       direct_io_alignment);
  // Reopening through /proc gets the very file `fd` is (even if renamed since).
  const std::string self = fmt::format("/proc/self/fd/{}", fd);
  const int opened = ::open(self.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
  if (opened < 0) return fmt::format("open(O_DIRECT) failed: {}", errno_text(errno));
  direct_fd.emplace(opened);
  struct stat original {};
  struct stat reopened {};
  if (::fstat(fd, &original) != 0 || ::fstat(opened, &reopened) != 0 || original.st_dev != reopened.st_dev ||
      original.st_ino != reopened.st_ino)
    return std::string("reopening the file through /proc/self/fd gave another file");
  return std::nullopt;
}

}  // namespace

ReadReport read_file_range(int fd, std::string_view name, std::uint64_t file_offset,
                           std::span<std::byte> destination, const ReadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ReadReport report;
  report.bytes = destination.size();
  const auto finish = [&] {
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  };
  if (destination.empty()) return finish();
  if (struct stat status {}; ::fstat(fd, &status) == 0 &&
                             file_offset + destination.size() > static_cast<std::uint64_t>(status.st_size))
    fail("{}: the file ends at byte {}, before the end of the range being read ({} bytes from {})", name,
         status.st_size, destination.size(), file_offset);

  if (options.mode != ReadMode::buffered) {
    std::optional<FileDescriptor> direct_fd;
    if (auto why_not = open_direct(fd, file_offset, destination.data(), direct_fd)) {
      report.fallback = std::move(*why_not);
    } else {
      // O_DIRECT transfers whole blocks: the last partial block goes through
      // an aligned bounce buffer (the destination may end mid-block).
      const std::uint64_t bulk = destination.size() / direct_io_alignment * direct_io_alignment;
      std::optional<ReadFailure> failure = parallel_read(direct_fd->get(), destination.data(), bulk, file_offset, options);
      if (!failure && bulk < destination.size()) {
        alignas(direct_io_alignment) std::byte bounce[direct_io_alignment];
        const std::uint64_t tail = destination.size() - bulk;
        const ssize_t got = ::pread(direct_fd->get(), bounce, direct_io_alignment, static_cast<off_t>(file_offset + bulk));
        if (got < 0) failure = ReadFailure{errno, file_offset + bulk};
        else if (static_cast<std::uint64_t>(got) < tail) failure = ReadFailure{0, file_offset + bulk + static_cast<std::uint64_t>(got)};
        else std::memcpy(destination.data() + bulk, bounce, tail);
      }
      if (!failure) {
        report.direct = true;
        return finish();
      }
      // Some filesystems open with O_DIRECT and refuse the reads.
      if (failure->error != EINVAL) fail_read(name, *failure, "O_DIRECT");
      report.fallback = fmt::format("O_DIRECT reads were refused: {}", errno_text(EINVAL));
    }
  }

  ::posix_fadvise(fd, static_cast<off_t>(file_offset), static_cast<off_t>(destination.size()), POSIX_FADV_SEQUENTIAL);
  if (auto failure = parallel_read(fd, destination.data(), destination.size(), file_offset, options))
    fail_read(name, *failure, "buffered");
  return finish();
}

}  // namespace pagoda::mapping
