#include "pagoda/model/architecture.hpp"
#include "pagoda/core/escape.hpp"

#include <fmt/format.h>

#include "pagoda/core/error.hpp"

namespace pagoda::model {

std::string_view name_of(FfnActivation activation) {
  switch (activation) {
    case FfnActivation::silu: return "SwiGLU";
    case FfnActivation::gelu_tanh: return "GeGLU (tanh)";
  }
  return "unknown";
}

std::string supported_architecture_names() {
  std::string names;
  for (const auto& arch : supported_architectures) {
    if (!names.empty()) names += ", ";
    names += arch.name;
  }
  return names;
}

Architecture find_architecture(std::string_view name, std::string_view file_name) {
  for (const auto& arch : supported_architectures)
    if (arch.name == name) return arch;
  fail("{}: architecture '{}' is not supported by pagoda (supported: {})", file_name, escaped(name),
       supported_architecture_names());
}

}  // namespace pagoda::model
