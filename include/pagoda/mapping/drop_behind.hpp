// Letting go of a file's page cache behind a reader that walks it in order,
// on a thread of its own, while the reader goes on.
//
// DeviceCopy's staged fill reads the mapping front to back into pinned
// buffers; once a stretch is in a buffer its pages are of no more use. On
// the H100 machine releasing an 8B model's 4.6 GB of page cache after the
// copy cost 0.26 s on top of a 0.36 s copy (docs/notes/performance.md,
// "Issue 3: load times"); released behind the copy, only the last stretch
// is left to wait for.
//
//   DropBehind drop(file, section.file_range());
//   for (each chunk, in order) { copy(chunk); drop.consumed(chunk.end()); }
//   const PageCacheRelease released = drop.finish();
//
// Only whole folios (page_cache_folio_bytes) wholly behind the reader are
// released early, so nothing the reader is about to read is evicted; finish()
// releases the rest, widened as release_page_cache widens it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "pagoda/mapping/byte_range.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/mapping/read_only_file.hpp"

namespace pagoda::mapping {

class DropBehind {
public:
  // `range`: file offsets the reader will walk, in order. `file` must
  // outlive this object.
  DropBehind(const ReadOnlyFile& file, ByteRange range);
  // Stops the thread; pages not yet released stay.
  ~DropBehind();
  DropBehind(const DropBehind&) = delete;
  DropBehind& operator=(const DropBehind&) = delete;

  // The reader is done with every byte before `file_offset`. Never blocks;
  // offsets that go backwards are ignored.
  void consumed(std::uint64_t file_offset);

  // Releases what is left of the (widened) range, waits for the thread and
  // returns the totals: bytes resident just before each piece was released,
  // bytes of the whole widened range resident at the end, any problem. Call
  // once; consumed() after it does nothing.
  PageCacheRelease finish();

  // Bytes released so far behind the reader (whole folios), for tests.
  [[nodiscard]] std::uint64_t released_bytes() const;

private:
  void run(std::stop_token stop);
  void release_up_to(std::uint64_t end, std::unique_lock<std::mutex>& lock);

  const ReadOnlyFile& file_;
  const ByteRange cover_;  // the range widened to whole folios

  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::uint64_t consumed_to_ = 0;  // file offset: the reader is past it
  std::uint64_t released_to_ = 0;  // file offset: everything of cover_ before it is released
  PageCacheRelease totals_;
  bool finished_ = false;
  std::jthread worker_;  // last: started once everything above exists
};

}  // namespace pagoda::mapping
