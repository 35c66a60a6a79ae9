// Lookup and typed access to a parsed GGUF file's metadata and tensors.
#include <limits>
#include <type_traits>

#include "pagoda/gguf/file.hpp"
#include "pagoda/core/escape.hpp"

namespace pagoda::gguf {

const Value* File::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
}

const TensorInfo* File::find_tensor(std::string_view tensor_name) const {
  const auto it = tensor_index_.find(tensor_name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(std::string_view tensor_name) const {
  if (const auto* info = find_tensor(tensor_name)) return *info;
  fail("{}: tensor '{}' is missing", name_, escaped(tensor_name));
}

namespace {

// The GGUF name of the type a caller asked for.
template <class T>
std::string_view wanted_name() {
  if constexpr (std::is_same_v<T, bool>) return "BOOL";
  else if constexpr (std::is_same_v<T, std::string_view>) return "STRING";
  else if constexpr (std::is_same_v<T, ArrayValue>) return "ARRAY";
  else if constexpr (std::is_same_v<T, float>) return "FLOAT32";
  else if constexpr (std::is_same_v<T, double>) return "FLOAT64";
  else if constexpr (std::is_same_v<T, std::uint8_t>) return "UINT8";
  else if constexpr (std::is_same_v<T, std::int8_t>) return "INT8";
  else if constexpr (std::is_same_v<T, std::uint16_t>) return "UINT16";
  else if constexpr (std::is_same_v<T, std::int16_t>) return "INT16";
  else if constexpr (std::is_same_v<T, std::uint32_t>) return "UINT32";
  else if constexpr (std::is_same_v<T, std::int32_t>) return "INT32";
  else if constexpr (std::is_same_v<T, std::uint64_t>) return "UINT64";
  else return "INT64";
}

// Converts a metadata value to T, or nullopt when its type or value does not fit.
template <class T>
std::optional<T> convert(const Value& value) {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string_view> ||
                std::is_same_v<T, ArrayValue>) {
    if (const T* v = value.get_if<T>()) return *v;
    return std::nullopt;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!value.is_number()) return std::nullopt;
    return static_cast<T>(value.as_double());
  } else {
    static_assert(std::is_integral_v<T>);
    if (const auto* big = value.get_if<std::uint64_t>(); big && !value.is_integer()) {
      if constexpr (std::is_same_v<T, std::uint64_t>) return *big;
      return std::nullopt;
    }
    if (!value.is_integer()) return std::nullopt;
    const std::int64_t v = value.as_int64();
    if constexpr (std::is_signed_v<T>) {
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return std::nullopt;
    } else {
      if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max()) return std::nullopt;
    }
    return static_cast<T>(v);
  }
}

}  // namespace

template <class T>
std::optional<T> File::get_optional(std::string_view key) const {
  const Value* value = find(key);
  if (!value) return std::nullopt;
  auto converted = convert<T>(*value);
  if (!converted) {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (value->is_integer())
        fail("{}: metadata '{}' is {} {}, which does not fit in {}", name_, key, name_of(value->type()),
             value->as_int64(), wanted_name<T>());
      if (const auto* big = value->get_if<std::uint64_t>())
        fail("{}: metadata '{}' is UINT64 {}, which does not fit in {}", name_, key, *big, wanted_name<T>());
    }
    fail("{}: metadata '{}' is {} where {} is expected", name_, key, name_of(value->type()), wanted_name<T>());
  }
  return converted;
}

template <class T>
T File::get(std::string_view key) const {
  auto value = get_optional<T>(key);
  if (!value) fail("{}: required metadata '{}' is missing", name_, key);
  return *value;
}

#define PAGODA_GGUF_GETTERS(T)                                                 \
  template std::optional<T> File::get_optional<T>(std::string_view) const; \
  template T File::get<T>(std::string_view) const;
PAGODA_GGUF_GETTERS(std::uint8_t)
PAGODA_GGUF_GETTERS(std::int8_t)
PAGODA_GGUF_GETTERS(std::uint16_t)
PAGODA_GGUF_GETTERS(std::int16_t)
PAGODA_GGUF_GETTERS(std::uint32_t)
PAGODA_GGUF_GETTERS(std::int32_t)
PAGODA_GGUF_GETTERS(std::uint64_t)
PAGODA_GGUF_GETTERS(std::int64_t)
PAGODA_GGUF_GETTERS(float)
PAGODA_GGUF_GETTERS(double)
PAGODA_GGUF_GETTERS(bool)
PAGODA_GGUF_GETTERS(std::string_view)
PAGODA_GGUF_GETTERS(ArrayValue)
#undef PAGODA_GGUF_GETTERS

}  // namespace pagoda::gguf
