// The field-streams weight layout: a GPU-native arrangement of a quantized
// matrix in which each field of F's block (quants, high bits, scales, d) lives
// in a stream of its own, so that a lane's 16-byte load holds bytes of one kind
// only and is 16-byte aligned. The GGUF layout (quant/layout.hpp: gguf_blocks)
// interleaves the fields in 18/144/210-byte blocks that are only 2-aligned, so
// no kernel can issue whole 16-byte loads of quants without staging them.
//
// Rows come in groups of field_stream_group_rows (8). Within a group of g rows
// (the last group of a ragged matrix may be shorter), stream s holds, for each
// row in turn, the field s of every block of that row:
//
//   group base = tensor + 8 * group * row_bytes          (16-aligned: 8 * block_bytes is)
//   stream s   = group base + g * blocks * prefix(s)     (prefix: bytes of the streams before s)
//   row r      = stream s + r * blocks * bytes(s)
//   block b    = row r + b * bytes(s)
//
// A group takes exactly the bytes its rows take in the GGUF layout, so a
// matrix is repacked in place, a chunk of whole groups at a time (what
// DeviceCopy does on the GPU after its copy: kernels/repack_streams.cuh), and
// the whole matrix has the same size in both layouts. Within a field nothing
// moves: byte i of a block's qs is byte i of its qs stream entry, so every
// decoder that reads a field at an offset reads the same bytes (FieldSource).
//
// Streams are listed widest alignment first: every 16-byte field (qs, K-quant
// headers, Q6_K's qh and scales) starts 16-aligned when the tensor does.
// Plain C++ usable on host and device (PAGODA_HD).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>

#include <pagoda/core/host_device.hpp>
#include <pagoda/core/type_list.hpp>
#include <pagoda/gguf/tensor_type.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::quant {

// One field of a block: where it sits in the GGUF block, how many bytes.
struct FieldStream {
  std::size_t offset;
  std::size_t bytes;
};

inline constexpr std::size_t field_stream_group_rows = 8;

// The streams of each format that has the layout. A format without a
// specialisation has no field-streams layout (it keeps gguf_blocks).
template <class F>
struct FieldStreams;

template <>
struct FieldStreams<Q4_0> {
  static constexpr std::array<FieldStream, 2> streams{{{2, 16}, {0, 2}}};  // qs, d
};
template <>
struct FieldStreams<Q4_1> {
  static constexpr std::array<FieldStream, 2> streams{{{4, 16}, {0, 4}}};  // qs, d and m
};
template <>
struct FieldStreams<Q5_0> {
  static constexpr std::array<FieldStream, 3> streams{{{6, 16}, {2, 4}, {0, 2}}};  // qs, qh, d
};
template <>
struct FieldStreams<Q5_1> {
  static constexpr std::array<FieldStream, 3> streams{{{8, 16}, {4, 4}, {0, 4}}};  // qs, qh, d and m
};
template <>
struct FieldStreams<Q8_0> {
  static constexpr std::array<FieldStream, 2> streams{{{2, 32}, {0, 2}}};  // qs, d
};
template <>
struct FieldStreams<Q4_K> {
  static constexpr std::array<FieldStream, 2> streams{{{16, 128}, {0, 16}}};  // qs, header (d, dmin, scales)
};
template <>
struct FieldStreams<Q5_K> {
  static constexpr std::array<FieldStream, 3> streams{{{48, 128}, {16, 32}, {0, 16}}};  // qs, qh, header
};
template <>
struct FieldStreams<Q6_K> {
  static constexpr std::array<FieldStream, 4> streams{{{0, 128}, {128, 64}, {192, 16}, {208, 2}}};  // ql qh scales d
};

// The formats with the layout: one list, read by cuda/GenerateFormatUnits.cmake
// for the streams kernel families (keep it a single line of plain names).
using field_stream_formats = type_list<Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K>;

template <class F>
concept HasFieldStreams = requires { FieldStreams<F>::streams; };

namespace detail {

template <class F>
constexpr bool streams_cover_block() {
  // Every byte of the block in exactly one stream, and the alignment promise.
  std::array<int, F::block_bytes> covered{};
  std::size_t prefix = 0;
  for (const FieldStream& s : FieldStreams<F>::streams) {
    for (std::size_t i = s.offset; i < s.offset + s.bytes; ++i) covered[i] += 1;
    const std::size_t align = s.bytes % 16 == 0 ? 16 : (s.bytes % 4 == 0 ? 4 : 2);
    if (prefix % align != 0) return false;
    prefix += s.bytes;
  }
  for (int c : covered)
    if (c != 1) return false;
  return field_stream_group_rows * F::block_bytes % 16 == 0;
}

template <class... Fs>
constexpr bool check_field_streams(type_list<Fs...>) {
  return (streams_cover_block<Fs>() && ...);
}
static_assert(check_field_streams(field_stream_formats{}),
              "each format's streams cover its block exactly once, widest alignment first");

}  // namespace detail

// Calls fn(type_tag<F>{}) for the format of `type` when it has the
// field-streams layout; false when it has none (the caller says why).
template <class Fn>
bool visit_field_stream_format(gguf::TensorType type, Fn&& fn) {
  return visit_first(
      field_stream_formats{}, [type](auto tag) { return decltype(tag)::type::id == type; }, fn);
}

// Index of the stream that holds GGUF block byte `offset` (a compile-time fact).
template <HasFieldStreams F>
constexpr std::size_t stream_of(std::size_t offset) {
  for (std::size_t s = 0; s < FieldStreams<F>::streams.size(); ++s) {
    const FieldStream& f = FieldStreams<F>::streams[s];
    if (offset >= f.offset && offset < f.offset + f.bytes) return s;
  }
  return FieldStreams<F>::streams.size();
}

// Bytes per block of the streams before stream s.
template <HasFieldStreams F>
constexpr std::size_t stream_prefix(std::size_t s) {
  std::size_t prefix = 0;
  for (std::size_t i = 0; i < s; ++i) prefix += FieldStreams<F>::streams[i].bytes;
  return prefix;
}

// Where one row's fields are, in the field-streams layout: the first byte of
// each stream's entry for block 0 of the row.
template <HasFieldStreams F>
struct FieldStreamRow {
  static constexpr std::size_t stream_count = FieldStreams<F>::streams.size();
  const std::uint8_t* stream[stream_count];

  // Bytes of GGUF block byte `Offset` onward (within its field) of block `block`.
  template <std::size_t Offset>
  PAGODA_HD_INLINE const std::uint8_t* bytes(std::size_t block) const {
    constexpr std::size_t s = stream_of<F>(Offset);
    static_assert(s < stream_count, "the offset lies inside a field of the block");
    constexpr FieldStream f = FieldStreams<F>::streams[s];
    return stream[s] + block * f.bytes + (Offset - f.offset);
  }
};

// Row `row` of a (rows, cols) matrix in the field-streams layout at `tensor`.
template <HasFieldStreams F>
PAGODA_HD_INLINE FieldStreamRow<F> field_stream_row(const std::byte* tensor, std::size_t rows, std::size_t cols,
                                                    std::size_t row) {
  constexpr std::size_t G = field_stream_group_rows;
  const std::size_t blocks = cols / F::block_elements;
  const std::size_t group = row / G;
  const std::size_t in_group = row % G;
  const std::size_t group_rows = rows - group * G < G ? rows - group * G : G;
  const auto* base = reinterpret_cast<const std::uint8_t*>(tensor) + group * G * blocks * F::block_bytes;
  FieldStreamRow<F> out{};
  // Unrolled at compile time: the stream table is a constant, not device data.
  [&]<std::size_t... S>(std::index_sequence<S...>) {
    ((out.stream[S] = base + group_rows * blocks * stream_prefix<F>(S) + in_group * blocks * FieldStreams<F>::streams[S].bytes),
     ...);
  }(std::make_index_sequence<FieldStreamRow<F>::stream_count>{});
  return out;
}

// The GGUF layout's answer to the same question, so that a decoder written
// against a field source reads either layout.
template <class F>
struct GgufBlockRow {
  const std::byte* row;
  template <std::size_t Offset>
  PAGODA_HD_INLINE const std::uint8_t* bytes(std::size_t block) const {
    return reinterpret_cast<const std::uint8_t*>(row) + block * F::block_bytes + Offset;
  }
};

// Host repacking (the reference the device repack is tested against, and what
// a host-filled policy would use): `rows` GGUF rows at `gguf` (starting at a
// group boundary of the matrix) into `out` (same size), or back.
template <HasFieldStreams F>
void pack_field_streams(const std::byte* gguf, std::byte* out, std::size_t rows, std::size_t cols) {
  const std::size_t blocks = cols / F::block_elements;
  for (std::size_t r = 0; r < rows; ++r) {
    const FieldStreamRow<F> to = field_stream_row<F>(out, rows, cols, r);
    const std::byte* from = gguf + r * blocks * F::block_bytes;
    for (std::size_t b = 0; b < blocks; ++b)
      for (std::size_t s = 0; s < FieldStreamRow<F>::stream_count; ++s) {
        const FieldStream f = FieldStreams<F>::streams[s];
        std::memcpy(const_cast<std::uint8_t*>(to.stream[s]) + b * f.bytes, from + b * F::block_bytes + f.offset,
                    f.bytes);
      }
  }
}

template <HasFieldStreams F>
void unpack_field_streams(const std::byte* packed, std::byte* gguf, std::size_t rows, std::size_t cols) {
  const std::size_t blocks = cols / F::block_elements;
  for (std::size_t r = 0; r < rows; ++r) {
    const FieldStreamRow<F> from = field_stream_row<F>(packed, rows, cols, r);
    std::byte* to = gguf + r * blocks * F::block_bytes;
    for (std::size_t b = 0; b < blocks; ++b)
      for (std::size_t s = 0; s < FieldStreamRow<F>::stream_count; ++s) {
        const FieldStream f = FieldStreams<F>::streams[s];
        std::memcpy(to + b * F::block_bytes + f.offset, from.stream[s] + b * f.bytes, f.bytes);
      }
  }
}

}  // namespace pagoda::quant
