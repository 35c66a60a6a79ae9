#include "pagoda/mapping/drop_behind.hpp"

#include <algorithm>
#include <utility>

namespace pagoda::mapping {

DropBehind::DropBehind(const ReadOnlyFile& file, ByteRange range)
    : file_(file),
      cover_(range.size == 0 ? ByteRange{} : folio_cover(range, file.bytes().size())),
      consumed_to_(cover_.offset),
      released_to_(cover_.offset),
      worker_([this](std::stop_token stop) { run(std::move(stop)); }) {}

DropBehind::~DropBehind() = default;  // worker_ goes first: its stop request wakes and ends run()

void DropBehind::consumed(std::uint64_t file_offset) {
  {
    const std::lock_guard lock(mutex_);
    if (finished_ || file_offset <= consumed_to_) return;
    consumed_to_ = std::min(file_offset, cover_.end());
  }
  wake_.notify_one();
}

std::uint64_t DropBehind::released_bytes() const {
  const std::lock_guard lock(mutex_);
  return released_to_ - cover_.offset;
}

// Releases [released_to_, end) with the lock dropped, so consumed() never
// waits on a release; only one thread at a time calls this (the worker
// until finish() has joined it, then finish()).
void DropBehind::release_up_to(std::uint64_t end, std::unique_lock<std::mutex>& lock) {
  const ByteRange piece{released_to_, end - released_to_};
  lock.unlock();
  const PageCacheRelease released = release_pages(file_, piece);
  lock.lock();
  released_to_ = end;
  totals_.resident_before += released.resident_before;
  if (!released.problem.empty() && totals_.problem.empty()) totals_.problem = released.problem;
}

void DropBehind::run(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  const auto releasable_end = [this] { return align_down(consumed_to_, page_cache_folio_bytes); };
  for (;;) {
    wake_.wait(lock, stop, [&] { return finished_ || releasable_end() > released_to_; });
    if (stop.stop_requested() || finished_) return;
    release_up_to(releasable_end(), lock);
  }
}

PageCacheRelease DropBehind::finish() {
  {
    const std::lock_guard lock(mutex_);
    if (finished_) return totals_;
    finished_ = true;
  }
  wake_.notify_all();
  worker_.join();
  std::unique_lock lock(mutex_);
  if (cover_.end() > released_to_) release_up_to(cover_.end(), lock);
  stop_read_around(file_);
  totals_.resident_after = resident_bytes(file_.bytes().subspan(cover_.offset, cover_.size));
  return totals_;
}

}  // namespace pagoda::mapping
