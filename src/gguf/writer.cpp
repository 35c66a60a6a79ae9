// gguf::Writer: metadata and tensor bookkeeping, the file layout (aligned
// data section, tensors packed at aligned offsets, zero padding), and its
// emission into a sink (writer_sink.hpp): a vector, or a temporary file
// renamed into place.
#include "pagoda/gguf/writer.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "encoding.hpp"
#include "pagoda/core/checked_math.hpp"
#include "pagoda/core/error.hpp"
#include "writer_sink.hpp"

namespace pagoda::gguf {

using encoding::put;
using encoding::put_string;

namespace {

constexpr std::uint32_t gguf_magic = 0x46554747;  // "GGUF" read little-endian
constexpr std::uint64_t max_dimension = std::uint64_t{1} << 62;  // the reader's bound
constexpr std::int64_t max_alignment = std::int64_t{1} << 30;

template <class T>
T load(std::span<const std::byte> body) {
  T value;
  std::memcpy(&value, body.data(), sizeof(T));
  return value;
}

// The value of an integer-typed scalar, when it fits in int64.
std::optional<std::int64_t> integer_of(const EncodedValue& value) {
  const auto body = value.body();
  switch (value.type()) {
    case ValueType::UINT8: return load<std::uint8_t>(body);
    case ValueType::INT8: return load<std::int8_t>(body);
    case ValueType::UINT16: return load<std::uint16_t>(body);
    case ValueType::INT16: return load<std::int16_t>(body);
    case ValueType::UINT32: return load<std::uint32_t>(body);
    case ValueType::INT32: return load<std::int32_t>(body);
    case ValueType::INT64: return load<std::int64_t>(body);
    case ValueType::UINT64: {
      const auto v = load<std::uint64_t>(body);
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
      return static_cast<std::int64_t>(v);
    }
    default: return std::nullopt;
  }
}

std::uint64_t align_or_fail(std::uint64_t value, std::uint32_t alignment) {
  const auto aligned = checked_align_up(value, alignment);
  if (!aligned) fail("GGUF writer: the file would be larger than 2^64 bytes");
  return *aligned;
}

std::uint64_t add_or_fail(std::uint64_t a, std::uint64_t b) {
  const auto sum = checked_add(a, b);
  if (!sum) fail("GGUF writer: the file would be larger than 2^64 bytes");
  return *sum;
}

// Closes and removes the temporary file unless the write completed.
struct TemporaryFile {
  std::filesystem::path path;
  int fd = -1;
  bool keep = false;
  ~TemporaryFile() {
    if (fd >= 0) ::close(fd);
    if (!keep) ::unlink(path.c_str());
  }
};

}  // namespace

std::uint64_t tensor_byte_size(std::string_view name, std::span<const std::uint64_t> dims, TensorType type) {
  if (dims.empty() || dims.size() > max_tensor_dims)
    fail("GGUF writer: tensor '{}' has {} dimensions; GGUF allows 1 to {}", name, dims.size(), max_tensor_dims);
  std::uint64_t elements = 1;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    if (dims[d] == 0 || dims[d] > max_dimension)
      fail("GGUF writer: tensor '{}': dimension {} is {} (must be 1 to 2^62)", name, d, dims[d]);
    const auto product = checked_mul(elements, dims[d]);
    if (!product) fail("GGUF writer: tensor '{}': the product of its dimensions overflows 64 bits", name);
    elements = *product;
  }
  const auto geometry = geometry_of(static_cast<std::uint32_t>(type));
  if (!geometry) fail("GGUF writer: tensor '{}': unknown tensor type id {}", name, static_cast<std::uint32_t>(type));
  if (dims[0] % geometry->block_elements != 0)
    fail("GGUF writer: tensor '{}': row length {} is not a multiple of the {} block size {}", name, dims[0],
         geometry->name, geometry->block_elements);
  const auto bytes = checked_mul(elements / geometry->block_elements, geometry->block_bytes);
  if (!bytes) fail("GGUF writer: tensor '{}': its byte size overflows 64 bits", name);
  return *bytes;
}

// ---- Writer: metadata and tensors -------------------------------------------

Writer& Writer::set_version(std::uint32_t version) {
  if (version != 2 && version != 3) fail("GGUF writer: version {} is not writable (2 and 3 are)", version);
  version_ = version;
  return *this;
}

Writer& Writer::set_alignment(std::uint32_t alignment) {
  return set("general.alignment", EncodedValue::scalar(alignment));
}

void Writer::accept_value(std::string_view key, const EncodedValue& value) {
  if (key.empty()) fail("GGUF writer: a metadata key may not be empty");
  if (key != "general.alignment") return;
  const auto alignment = integer_of(value);
  if (!alignment || *alignment <= 0 || *alignment > max_alignment ||
      (*alignment & (*alignment - 1)) != 0)
    fail("GGUF writer: general.alignment must be an integer power of two from 1 to 2^30, not {}",
         alignment ? fmt::format("{}", *alignment) : fmt::format("a {}", name_of(value.type())));
  alignment_ = static_cast<std::uint32_t>(*alignment);
}

Writer& Writer::add(std::string_view key, EncodedValue value) {
  if (metadata_index_.contains(std::string(key))) fail("GGUF writer: duplicate metadata key '{}'", key);
  accept_value(key, value);
  metadata_index_.emplace(std::string(key), metadata_.size());
  metadata_.push_back(Entry{std::string(key), std::move(value)});
  return *this;
}

Writer& Writer::set(std::string_view key, EncodedValue value) {
  const auto it = metadata_index_.find(std::string(key));
  if (it == metadata_index_.end()) return add(key, std::move(value));
  accept_value(key, value);
  metadata_[it->second].value = std::move(value);
  return *this;
}

Writer::Tensor Writer::checked_tensor(std::string_view name, std::vector<std::uint64_t> dims,
                                      TensorType type) const {
  if (tensor_index_.contains(std::string(name))) fail("GGUF writer: duplicate tensor name '{}'", name);
  // ggml keeps names in a 64-byte buffer: a longer name makes a file llama.cpp refuses.
  if (name.size() >= max_tensor_name_bytes)
    fail("GGUF writer: tensor name '{}' is {} bytes; ggml engines accept at most {}", name, name.size(),
         max_tensor_name_bytes - 1);
  const auto byte_size = tensor_byte_size(name, dims, type);
  return Tensor{std::string(name), std::move(dims), type, byte_size, {}, {}};
}

void Writer::insert_tensor(Tensor tensor) {
  tensor_index_.emplace(tensor.name, tensors_.size());
  tensors_.push_back(std::move(tensor));
}

Writer& Writer::add_tensor(std::string_view name, std::vector<std::uint64_t> dims, TensorType type,
                           std::span<const std::byte> bytes) {
  Tensor tensor = checked_tensor(name, std::move(dims), type);
  if (bytes.size() != tensor.byte_size)
    fail("GGUF writer: tensor '{}' ({}) needs {} bytes but {} were given", name, name_of(type), tensor.byte_size,
         bytes.size());
  tensor.bytes.assign(bytes.begin(), bytes.end());
  insert_tensor(std::move(tensor));
  return *this;
}

Writer& Writer::add_tensor(std::string_view name, std::vector<std::uint64_t> dims, TensorType type,
                           TensorFill fill) {
  if (!fill) fail("GGUF writer: tensor '{}' has an empty fill callback", name);
  Tensor tensor = checked_tensor(name, std::move(dims), type);
  tensor.fill = std::move(fill);
  insert_tensor(std::move(tensor));
  return *this;
}

// ---- Writer: layout and emission --------------------------------------------

Writer::Layout Writer::layout() const {
  Layout layout{};
  std::uint64_t header = 4 + 4 + 8 + 8;
  for (const auto& entry : metadata_) header += 8 + entry.key.size() + 4 + entry.value.body().size();
  for (const auto& tensor : tensors_) header += 8 + tensor.name.size() + 4 + 8 * tensor.dims.size() + 4 + 8;
  layout.header_bytes = header;
  layout.data_offset = align_or_fail(header, alignment_);
  layout.offsets.reserve(tensors_.size());
  std::uint64_t end = 0;
  for (const auto& tensor : tensors_) {
    const auto offset = align_or_fail(end, alignment_);
    layout.offsets.push_back(offset);
    end = add_or_fail(offset, tensor.byte_size);
  }
  layout.total_bytes = add_or_fail(layout.data_offset, align_or_fail(end, alignment_));
  return layout;
}

std::uint64_t Writer::size() const { return layout().total_bytes; }

void Writer::emit(Sink& sink) const {
  const Layout layout = this->layout();
  std::vector<std::byte> header;
  header.reserve(layout.header_bytes);
  put<std::uint32_t>(header, gguf_magic);
  put<std::uint32_t>(header, version_);
  put<std::uint64_t>(header, tensors_.size());
  put<std::uint64_t>(header, metadata_.size());
  for (const auto& entry : metadata_) {
    put_string(header, entry.key);
    put<std::uint32_t>(header, static_cast<std::uint32_t>(entry.value.type()));
    const auto body = entry.value.body();
    header.insert(header.end(), body.begin(), body.end());
  }
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    const auto& tensor = tensors_[i];
    put_string(header, tensor.name);
    put<std::uint32_t>(header, static_cast<std::uint32_t>(tensor.dims.size()));
    for (const auto dim : tensor.dims) put<std::uint64_t>(header, dim);
    put<std::uint32_t>(header, static_cast<std::uint32_t>(tensor.type));
    put<std::uint64_t>(header, layout.offsets[i]);
  }
  sink.append(header);
  sink.append_zeros(layout.data_offset - layout.header_bytes);

  std::uint64_t cursor = 0;  // relative to the data section
  for (std::size_t i = 0; i < tensors_.size(); ++i) {
    const auto& tensor = tensors_[i];
    sink.append_zeros(layout.offsets[i] - cursor);
    if (tensor.fill)
      sink.append_filled(tensor.byte_size, tensor.fill);
    else
      sink.append(tensor.bytes);
    cursor = layout.offsets[i] + tensor.byte_size;
  }
  sink.append_zeros(layout.total_bytes - layout.data_offset - cursor);
  if (sink.written() != layout.total_bytes)
    fail("GGUF writer: internal error: wrote {} bytes where the layout has {}", sink.written(), layout.total_bytes);
}

std::vector<std::byte> Writer::to_bytes() const {
  const auto total = size();
  std::vector<std::byte> out;
  if (total > out.max_size()) fail("GGUF writer: a {}-byte file cannot be held in memory; write() it", total);
  out.reserve(total);
  VectorSink sink(out);
  emit(sink);
  return out;
}

void Writer::write(const std::filesystem::path& path) const {
  static std::atomic<unsigned> serial{0};
  std::filesystem::path temporary = path;
  temporary += fmt::format(".partial-{}-{}", ::getpid(), serial.fetch_add(1));
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) fail("{}: cannot create {}: {}", path.string(), temporary.string(), std::strerror(errno));
  TemporaryFile file{temporary, fd};

  FileSink sink(fd, path.string());
  emit(sink);
  sink.flush();
  if (::close(std::exchange(file.fd, -1)) != 0) fail("{}: cannot write: {}", path.string(), std::strerror(errno));
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    fail("{}: cannot rename {} over it: {}", path.string(), temporary.string(), std::strerror(errno));
  file.keep = true;
}

}  // namespace pagoda::gguf
