// libFuzzer target for the GGUF reader. Parses arbitrary bytes; a
// pagoda::Error is the expected end for most inputs. When parsing succeeds it
// reads every byte any view points at — keys, scalar values, strings, every
// array element (decoded one by one and as a whole), every tensor's data — so
// a view past the input shows up under ASan, and it checks that the writer
// re-encodes the file into one that parses to the same content. Anything
// else — another exception, a crash, a leak, UB, a broken invariant — is a
// finding. Build and run: see tests/fuzz/CMakeLists.txt.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "pagoda/core/error.hpp"
#include "pagoda/gguf/file.hpp"
#include "pagoda/gguf/writer.hpp"

namespace {

using namespace pagoda::gguf;

// Sums land here so no read can be optimised away.
volatile std::uint64_t sink = 0;

void check(bool condition) {
  if (!condition) std::abort();
}

void touch(std::span<const std::byte> bytes) {
  std::uint64_t sum = 0;
  for (std::byte b : bytes) sum += static_cast<std::uint8_t>(b);
  sink = sink + sum;
}

void touch(std::string_view text) { touch(std::as_bytes(std::span(text.data(), text.size()))); }

template <class T>
void touch_all(const ArrayValue& array) {
  const auto values = array.as<T>();
  check(values.size() == array.size());
  if constexpr (std::is_same_v<T, std::string_view>) {
    for (auto v : values) touch(v);
  } else if constexpr (std::is_same_v<T, ArrayValue>) {
    sink = sink + values.size();
  } else if constexpr (std::is_floating_point_v<T>) {
    for (auto v : values) sink = sink + (v > 0 ? 1u : 0u);
  } else {
    for (auto v : values) sink = sink + static_cast<std::uint64_t>(v);
  }
}

void walk(const Value& value);

void walk_array(const ArrayValue& array) {
  for (std::size_t i = 0; i < array.size(); ++i) {
    const Value element = array.at(i);
    check(element.type() == array.element_type());
    walk(element);
    if (array.element_type() == ValueType::STRING) touch(array.string_at(i));
  }
  switch (array.element_type()) {
    case ValueType::UINT8: touch_all<std::uint8_t>(array); break;
    case ValueType::INT8: touch_all<std::int8_t>(array); break;
    case ValueType::UINT16: touch_all<std::uint16_t>(array); break;
    case ValueType::INT16: touch_all<std::int16_t>(array); break;
    case ValueType::UINT32: touch_all<std::uint32_t>(array); break;
    case ValueType::INT32: touch_all<std::int32_t>(array); break;
    case ValueType::FLOAT32: touch_all<float>(array); break;
    case ValueType::BOOL: touch_all<bool>(array); break;
    case ValueType::STRING: touch_all<std::string_view>(array); break;
    case ValueType::ARRAY: touch_all<ArrayValue>(array); break;
    case ValueType::UINT64: touch_all<std::uint64_t>(array); break;
    case ValueType::INT64: touch_all<std::int64_t>(array); break;
    case ValueType::FLOAT64: touch_all<double>(array); break;
  }
}

void walk(const Value& value) {
  if (value.is_integer()) sink = sink + static_cast<std::uint64_t>(value.as_int64());
  if (value.is_number()) sink = sink + (value.as_double() > 0.0 ? 1 : 0);
  if (const auto* text = value.get_if<std::string_view>()) touch(*text);
  if (const auto* array = value.get_if<ArrayValue>()) walk_array(*array);
}

// Typed access may refuse (wrong type, value out of range) but only with a pagoda::Error.
template <class T>
void try_get(const File& file, std::string_view key) {
  try {
    sink = sink + file.get_optional<T>(key).has_value();
  } catch (const pagoda::Error&) {
  }
}

// The writer must accept every file the reader accepts, and its copy must
// parse to the same metadata and tensor bytes.
void check_rewrite(const File& file) {
  Writer writer;
  writer.set_version(file.version());
  for (const auto& entry : file.metadata()) writer.add(entry.key, EncodedValue::copy_of(entry.value));
  for (const TensorInfo& t : file.tensors()) writer.add_tensor(t.name, t.dims, t.type, t.bytes);
  const auto bytes = writer.to_bytes();
  check(bytes.size() == writer.size());
  const File copy = File::parse(bytes, "rewritten");
  check(copy.metadata().size() == file.metadata().size());
  check(copy.tensors().size() == file.tensors().size());
  check(copy.alignment() == file.alignment());
  for (std::size_t i = 0; i < copy.metadata().size(); ++i) {
    check(copy.metadata()[i].key == file.metadata()[i].key);
    check(copy.metadata()[i].value.type() == file.metadata()[i].value.type());
  }
  for (std::size_t i = 0; i < copy.tensors().size(); ++i) {
    const auto& a = copy.tensors()[i];
    const auto& b = file.tensors()[i];
    check(a.name == b.name && a.dims == b.dims && a.type == b.type && a.byte_size == b.byte_size);
    check(std::memcmp(a.bytes.data(), b.bytes.data(), a.byte_size) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // libFuzzer hands over a heap copy of exactly `size` bytes: a read past it is an ASan report.
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  std::optional<File> parsed;
  try {
    parsed.emplace(File::parse(bytes, "fuzz-input"));
  } catch (const pagoda::Error&) {
    return 0;  // refused with a message: the expected outcome for malformed input
  }
  // From here on nothing may throw: an escaping exception terminates, a finding.
  const File& file = *parsed;
  check(file.version() == 2 || file.version() == 3);
  check(file.data_offset() % file.alignment() == 0);
  for (const auto& entry : file.metadata()) {
    touch(entry.key);
    walk(entry.value);
    check(file.find(entry.key) == &entry.value);
    try_get<std::uint32_t>(file, entry.key);
    try_get<std::int64_t>(file, entry.key);
    try_get<std::uint64_t>(file, entry.key);
    try_get<float>(file, entry.key);
    try_get<bool>(file, entry.key);
    try_get<std::string_view>(file, entry.key);
    try_get<ArrayValue>(file, entry.key);
  }
  for (const TensorInfo& t : file.tensors()) {
    touch(t.name);
    touch(t.bytes);
    check(t.bytes.size() == t.byte_size);
    check(t.bytes.data() >= bytes.data() && t.bytes.data() + t.bytes.size() <= bytes.data() + bytes.size());
    check(t.data_offset % file.alignment() == 0);
    check(!t.dims.empty() && t.dims.size() <= max_tensor_dims);
    sink = sink + t.rows() + t.row_bytes();
    check(&file.tensor(t.name) == &t);
  }
  check_rewrite(file);
  return 0;
}
