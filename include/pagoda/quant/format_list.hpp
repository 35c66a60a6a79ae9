// The one list of formats pagoda computes with, and the one place where a
// tensor type read from a file becomes a compile-time format:
//   visit_format(tensor.type, [&](auto tag) { using F = typename decltype(tag)::type; ... });
// Adding a format is its struct plus one entry in `formats` below. The CUDA
// instantiation units (cuda/GenerateFormatUnits.cmake) are generated from the
// names on that line, so keep it a single line of plain format names.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <pagoda/core/error.hpp>
#include <pagoda/core/type_list.hpp>
#include <pagoda/gguf/tensor_type.hpp>
#include <pagoda/quant/float_formats.hpp>
#include <pagoda/quant/format.hpp>
#include <pagoda/quant/k_formats.hpp>
#include <pagoda/quant/legacy_formats.hpp>

namespace pagoda::quant {

using formats = type_list<F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K>;

namespace detail {

// Instantiated once per listed format, so a failure names the format.
template <class F>
struct listed_format_check {
  static_assert(QuantFormat<F>, "every listed format satisfies quant::QuantFormat");
  static constexpr gguf::TypeGeometry geometry = gguf::geometry_of(F::id);
  static_assert(geometry.block_elements == F::block_elements,
                "a format's block_elements equals the GGUF geometry of its id");
  static_assert(geometry.block_bytes == F::block_bytes,
                "a format's block_bytes equals the GGUF geometry of its id");
  static_assert(geometry.name == F::name, "a format's name is the GGUF name of its id");
  static constexpr bool ok = true;
};

template <class... Fs>
constexpr bool check_listed_formats(type_list<Fs...>) {
  constexpr std::array<gguf::TensorType, sizeof...(Fs)> ids{Fs::id...};
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (std::size_t j = i + 1; j < ids.size(); ++j)
      if (ids[i] == ids[j]) return false;
  return (listed_format_check<Fs>::ok && ...);
}

template <class... Fs>
constexpr std::array<std::string_view, sizeof...(Fs)> names_of(type_list<Fs...>) {
  return {Fs::name...};
}

// A template so that TUs which never visit (nvcc ones among them) never
// compile a fmt format string.
template <class List>
[[noreturn]] void fail_unsupported(gguf::TensorType type, List list) {
  std::string supported;
  for (std::string_view name : names_of(list)) {
    if (!supported.empty()) supported += ", ";
    supported += name;
  }
  const auto raw = static_cast<std::uint32_t>(type);
  if (const auto geometry = gguf::geometry_of(raw))
    fail("tensor type {} (id {}) is not supported by pagoda; supported types: {}", geometry->name,
         raw, supported);
  fail("unknown tensor type id {}; supported types: {}", raw, supported);
}

}  // namespace detail

static_assert(detail::check_listed_formats(formats{}),
              "quant::formats lists each GGUF tensor type at most once");

// Names of the supported formats, in list order.
inline constexpr std::array<std::string_view, formats::size> format_names =
    detail::names_of(formats{});

[[nodiscard]] constexpr bool is_supported(gguf::TensorType type) {
  return visit_first(
      formats{}, [type](auto tag) { return decltype(tag)::type::id == type; }, [](auto) {});
}

// Calls fn(type_tag<F>{}) for the listed format F whose id is `type` and
// returns its result (fn must return the same type for every format). Throws
// pagoda::Error naming the type and the supported ones when pagoda has no such
// format.
template <class Fn>
decltype(auto) visit_format(gguf::TensorType type, Fn&& fn) {
  return visit_matching(
      formats{}, [type](auto tag) { return decltype(tag)::type::id == type; }, fn,
      [type] { detail::fail_unsupported(type, formats{}); });
}

}  // namespace pagoda::quant
