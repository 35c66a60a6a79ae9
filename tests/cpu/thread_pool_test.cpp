#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "pagoda/cpu/thread_pool.hpp"

using pagoda::cpu::ThreadPool;

TEST_CASE("parallel_for visits every index exactly once, for any size and thread count") {
  for (unsigned threads : {1u, 2u, 5u}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (std::size_t n : {1u, 2u, 3u, 17u, 1000u}) {
      std::vector<std::atomic<int>> visits(n);
      pool.parallel_for(n, [&](std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) visits[i]++;
      });
      for (auto& v : visits) CHECK(v.load() == 1);
    }
  }
}

TEST_CASE("an exception in any chunk reaches the caller, and the pool stays usable") {
  ThreadPool pool(4);
  CHECK_THROWS_AS(pool.parallel_for(100, [](std::size_t begin, std::size_t) {
                    if (begin > 0) throw std::runtime_error("chunk failed");
                  }),
                  std::runtime_error);
  std::atomic<int> sum = 0;
  pool.parallel_for(10, [&](std::size_t begin, std::size_t end) { sum += static_cast<int>(end - begin); });
  CHECK(sum == 10);
}
