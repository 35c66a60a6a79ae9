// GGUF parsing: header, metadata, tensor infos, data placement. Every size is
// validated before it is used to read or allocate: a count is only trusted
// after count × (smallest possible element) fits in the bytes that remain.
#include "parser.hpp"

#include <algorithm>
#include <numeric>

#include "pagoda/core/checked_math.hpp"
#include "pagoda/core/escape.hpp"

namespace pagoda::gguf {

namespace {

constexpr std::uint32_t gguf_magic = 0x46554747;  // "GGUF" read little-endian
constexpr std::uint64_t min_kv_bytes = 8 + 4 + 1;           // empty key is refused later
constexpr std::uint64_t min_tensor_info_bytes = 8 + 4 + 8 + 4 + 8;
constexpr std::uint64_t min_string_bytes = 8;
constexpr std::uint64_t min_array_bytes = 4 + 8;

// Reservations trust a count only this far: a count that merely fits in the
// bytes that remain could still ask for many times the file's size in tables.
constexpr std::uint64_t max_reserve = 4096;

bool is_power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

std::uint64_t fixed_size_of(ValueType type) {
  switch (type) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    case ValueType::STRING: case ValueType::ARRAY: return 0;
  }
  return 0;
}

void Parser::require(std::uint64_t n, std::string_view field) const {
  if (n > remaining())
    error_at(position_, field,
             fmt::format("needs {} bytes but only {} remain (file is truncated or the field is corrupt)",
                         n, remaining()));
}

std::string_view Parser::read_string(std::string_view field) {
  const std::uint64_t at = position_;
  const auto length = read_scalar<std::uint64_t>(field);
  if (length > remaining())
    error_at(at, field, fmt::format("string length {} exceeds the {} bytes that remain", length, remaining()));
  std::string_view text(reinterpret_cast<const char*>(bytes_.data() + position_), length);
  position_ += length;
  return text;
}

ValueType Parser::read_value_type(std::string_view field) {
  const std::uint64_t at = position_;
  const auto raw = read_scalar<std::uint32_t>(field);
  if (raw > static_cast<std::uint32_t>(ValueType::FLOAT64))
    error_at(at, field, fmt::format("unknown metadata value type {}", raw));
  return static_cast<ValueType>(raw);
}

void Parser::skip_fixed_elements(std::uint64_t count, std::uint64_t element_size, std::string_view field) {
  const auto bytes = checked_mul(count, element_size);
  if (!bytes || *bytes > remaining())
    error_at(position_, field,
             fmt::format("{} elements of {} bytes exceed the {} bytes that remain", count, element_size, remaining()));
  position_ += *bytes;
}

ArrayValue Parser::read_array(std::string_view field, int depth) {
  if (depth >= max_array_depth)
    error_at(position_, field, fmt::format("arrays nested deeper than {} levels", max_array_depth));
  ArrayValue array;
  array.element_type_ = read_value_type(field);
  const std::uint64_t count_at = position_;
  const auto count = read_scalar<std::uint64_t>(field);
  array.count_ = count;
  const std::uint64_t start = position_;

  if (const auto size = fixed_size_of(array.element_type_); size != 0) {
    skip_fixed_elements(count, size, field);
  } else {
    const std::uint64_t min_element =
        array.element_type_ == ValueType::STRING ? min_string_bytes : min_array_bytes;
    const auto least = checked_mul(count, min_element);
    if (!least || *least > remaining())
      error_at(count_at, field,
               fmt::format("array of {} {} elements cannot fit in the {} bytes that remain", count,
                           name_of(array.element_type_), remaining()));
    array.element_offsets_.reserve(count);
    if (array.element_type_ == ValueType::ARRAY) array.nested_.reserve(std::min(count, max_reserve));
    for (std::uint64_t i = 0; i < count; ++i) {
      array.element_offsets_.push_back(position_ - start);
      if (array.element_type_ == ValueType::STRING)
        (void)read_string(field);
      else
        array.nested_.push_back(read_array(field, depth + 1));
    }
  }
  array.payload_ = bytes_.subspan(start, position_ - start);
  return array;
}

Value Parser::read_value(ValueType type, std::string_view field, int depth) {
  switch (type) {
    case ValueType::UINT8: return Value(read_scalar<std::uint8_t>(field));
    case ValueType::INT8: return Value(read_scalar<std::int8_t>(field));
    case ValueType::UINT16: return Value(read_scalar<std::uint16_t>(field));
    case ValueType::INT16: return Value(read_scalar<std::int16_t>(field));
    case ValueType::UINT32: return Value(read_scalar<std::uint32_t>(field));
    case ValueType::INT32: return Value(read_scalar<std::int32_t>(field));
    case ValueType::FLOAT32: return Value(read_scalar<float>(field));
    case ValueType::BOOL: return Value(read_scalar<std::uint8_t>(field) != 0);
    case ValueType::STRING: return Value(read_string(field));
    case ValueType::ARRAY: return Value(read_array(field, depth));
    case ValueType::UINT64: return Value(read_scalar<std::uint64_t>(field));
    case ValueType::INT64: return Value(read_scalar<std::int64_t>(field));
    case ValueType::FLOAT64: return Value(read_scalar<double>(field));
  }
  error_at(position_, field, "unknown value type");
}

void Parser::read_metadata(File& file, std::uint64_t count) {
  const auto least = checked_mul(count, min_kv_bytes);
  if (!least || *least > remaining())
    error_at(16, "metadata_kv_count", fmt::format("{} key/value pairs cannot fit in the {} bytes that remain",
                                                  count, remaining()));
  file.metadata_.reserve(std::min(count, max_reserve));
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t entry_at = position_;
    const auto key = read_string("metadata key");
    if (key.empty()) error_at(entry_at, "metadata key", "empty key");
    const std::string field = fmt::format("metadata '{}'", escaped(key));
    const ValueType type = read_value_type(field);
    Value value = read_value(type, field, 0);
    if (!file.metadata_index_.emplace(key, file.metadata_.size()).second)
      error_at(entry_at, field, "duplicate key");
    file.metadata_.push_back(MetadataEntry{key, std::move(value), entry_at});
  }

  if (const Value* alignment = file.find("general.alignment")) {
    const auto at = file.metadata_[file.metadata_index_.at("general.alignment")].file_offset;
    if (!alignment->is_integer() || alignment->as_int64() <= 0 ||
        !is_power_of_two(static_cast<std::uint64_t>(alignment->as_int64())) ||
        alignment->as_int64() > (std::int64_t{1} << 30))
      error_at(at, "metadata 'general.alignment'", "must be a power of two between 1 and 2^30");
    file.alignment_ = static_cast<std::uint32_t>(alignment->as_int64());
  }
}

void Parser::read_tensor_infos(File& file, std::uint64_t count) {
  const auto least = checked_mul(count, min_tensor_info_bytes);
  if (!least || *least > remaining())
    error_at(8, "tensor_count", fmt::format("{} tensor infos cannot fit in the {} bytes that remain",
                                            count, remaining()));
  file.tensors_.reserve(std::min(count, max_reserve));
  for (std::uint64_t i = 0; i < count; ++i) {
    TensorInfo info{};
    info.info_file_offset = position_;
    info.name = read_string("tensor name");
    const std::string field = fmt::format("tensor '{}'", escaped(info.name));
    if (info.name.size() >= max_tensor_name_bytes)
      error_at(info.info_file_offset, field,
               fmt::format("has a {}-byte name; GGUF (ggml) allows at most {}", info.name.size(),
                           max_tensor_name_bytes - 1));
    const std::uint64_t dims_at = position_;
    const auto n_dims = read_scalar<std::uint32_t>(field + " n_dims");
    if (n_dims == 0 || n_dims > max_tensor_dims)
      error_at(dims_at, field, fmt::format("has {} dimensions; GGUF allows 1 to {}", n_dims, max_tensor_dims));
    std::uint64_t elements = 1;
    for (std::uint32_t d = 0; d < n_dims; ++d) {
      const std::uint64_t dim_at = position_;
      const auto dim = read_scalar<std::uint64_t>(field + " dims");
      if (dim == 0 || dim > (std::uint64_t{1} << 62))
        error_at(dim_at, field, fmt::format("dimension {} is {}", d, dim));
      const auto product = checked_mul(elements, dim);
      if (!product) error_at(dim_at, field, "the product of its dimensions overflows 64 bits");
      elements = *product;
      info.dims.push_back(dim);
    }
    const std::uint64_t type_at = position_;
    const auto raw_type = read_scalar<std::uint32_t>(field + " type");
    const auto geometry = geometry_of(raw_type);
    if (!geometry) error_at(type_at, field, fmt::format("unknown tensor type id {}", raw_type));
    info.type = geometry->type;
    if (info.dims[0] % geometry->block_elements != 0)
      error_at(dims_at, field, fmt::format("row length {} is not a multiple of the {} block size {}",
                                           info.dims[0], geometry->name, geometry->block_elements));
    const auto bytes = checked_mul(elements / geometry->block_elements, geometry->block_bytes);
    if (!bytes) error_at(dims_at, field, "byte size overflows 64 bits");
    info.element_count = elements;
    info.byte_size = *bytes;
    const std::uint64_t offset_at = position_;
    info.data_offset = read_scalar<std::uint64_t>(field + " offset");
    if (info.data_offset % file.alignment_ != 0)
      error_at(offset_at, field, fmt::format("data offset {} is not a multiple of the alignment {}",
                                             info.data_offset, file.alignment_));
    if (!file.tensor_index_.emplace(info.name, file.tensors_.size()).second)
      error_at(info.info_file_offset, field, "duplicate tensor name");
    file.tensors_.push_back(std::move(info));
  }
}

void Parser::place_tensors(File& file) {
  const auto data_offset = checked_align_up(position_, file.alignment_);
  if (!data_offset || (*data_offset > bytes_.size() && !file.tensors_.empty()))
    error_at(position_, "data section", fmt::format("starts past the end of the file ({} bytes)", bytes_.size()));
  file.data_offset_ = *data_offset;

  for (auto& info : file.tensors_) {
    const auto begin = checked_add(file.data_offset_, info.data_offset);
    const auto end = begin ? checked_add(*begin, info.byte_size) : std::nullopt;
    if (!end || *end > bytes_.size())
      error_at(info.info_file_offset, fmt::format("tensor '{}'", escaped(info.name)),
               fmt::format("its {} bytes at data offset {} extend past the end of the file ({} bytes)",
                           info.byte_size, info.data_offset, bytes_.size()));
    info.bytes = bytes_.subspan(*begin, info.byte_size);
  }

  // Tensors must not overlap: kernels read each one's bytes and nothing else.
  std::vector<const TensorInfo*> by_offset;
  by_offset.reserve(file.tensors_.size());
  for (const auto& info : file.tensors_) by_offset.push_back(&info);
  std::ranges::sort(by_offset, {}, &TensorInfo::data_offset);
  for (std::size_t i = 1; i < by_offset.size(); ++i) {
    const auto& prev = *by_offset[i - 1];
    const auto& next = *by_offset[i];
    if (next.data_offset < prev.data_offset + prev.byte_size)
      error_at(next.info_file_offset, fmt::format("tensor '{}'", escaped(next.name)),
               fmt::format("its data overlaps tensor '{}'", escaped(prev.name)));
  }
}

File Parser::parse_file() {
  File file;
  file.name_ = file_name_;
  file.bytes_ = bytes_;

  if (bytes_.size() < 4) error_at(0, "magic", fmt::format("file is only {} bytes long", bytes_.size()));
  const auto magic = read_scalar<std::uint32_t>("magic");
  if (magic != gguf_magic) error_at(0, "magic", "not a GGUF file (the first four bytes are not \"GGUF\")");
  const auto version = read_scalar<std::uint32_t>("version");
  if (version == 1) error_at(4, "version", "GGUF version 1 is not supported (versions 2 and 3 are)");
  if (version == 0x02000000 || version == 0x03000000)
    error_at(4, "version", "big-endian GGUF files are not supported");
  if (version != 2 && version != 3)
    error_at(4, "version", fmt::format("unknown GGUF version {} (versions 2 and 3 are supported)", version));
  file.version_ = version;
  const auto tensor_count = read_scalar<std::uint64_t>("tensor_count");
  const auto kv_count = read_scalar<std::uint64_t>("metadata_kv_count");

  read_metadata(file, kv_count);
  read_tensor_infos(file, tensor_count);
  place_tensors(file);
  return file;
}

File File::parse(std::span<const std::byte> bytes, std::string name) {
  Parser parser(bytes, name);
  File file = parser.parse_file();
  return file;
}

}  // namespace pagoda::gguf
