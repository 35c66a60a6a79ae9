// pagoda's library errors: one exception type carrying its context (file,
// tensor, byte offset, CUDA error name) in the message. Apps catch it at main
// and print one line.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

// nvcc's front end cannot parse fmt 9's headers: CUDA translation units see
// the exception type only and throw through pagoda::fail_cuda (compiled by
// the host compiler, see core/cuda_check.hpp).
#if !defined(__CUDACC__)
#include <fmt/format.h>
#endif

namespace pagoda {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

#if !defined(__CUDACC__)
// Throws pagoda::Error with a fmt-formatted message.
template <class... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}
#endif

}  // namespace pagoda
