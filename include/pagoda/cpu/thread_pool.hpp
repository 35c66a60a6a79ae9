// A fixed set of worker threads for the CPU reference: parallel_for splits
// [0, n) into one contiguous chunk per thread (the caller runs one chunk too)
// and returns when all are done, rethrowing the first exception a chunk threw.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pagoda::cpu {

class ThreadPool {
public:
  // threads == 0 means one per hardware thread.
  explicit ThreadPool(unsigned threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  [[nodiscard]] unsigned size() const { return static_cast<unsigned>(workers_.size()) + 1; }

  void parallel_for(std::size_t n, const std::function<void(std::size_t begin, std::size_t end)>& body);

private:
  void worker_loop(unsigned index);
  void run_chunk(unsigned index);

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  const std::function<void(std::size_t, std::size_t)>* body_ = nullptr;
  std::size_t n_ = 0;
  std::size_t generation_ = 0;
  unsigned pending_ = 0;
  bool stopping_ = false;
  std::exception_ptr first_error_;
};

}  // namespace pagoda::cpu
