// A compile-time list of types, and the fold that turns a runtime key into a
// call instantiated for the matching type. Each runtime axis of pagoda (quant
// format, mapping policy) keeps exactly one such list.
#pragma once

#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

namespace pagoda {

template <class... Ts>
struct type_list {
  static constexpr std::size_t size = sizeof...(Ts);
};

// Tag that carries a type through a generic lambda: fn(type_tag<T>{}).
template <class T>
struct type_tag {
  using type = T;
};

// Calls fn(type_tag<T>{}) for the first T in List with matches(type_tag<T>{})
// true. Returns false when none matched (the caller reports the error).
template <class... Ts, class Matches, class Fn>
constexpr bool visit_first(type_list<Ts...>, Matches&& matches, Fn&& fn) {
  return ((matches(type_tag<Ts>{}) ? (fn(type_tag<Ts>{}), true) : false) || ...);
}

// Calls fn(type_tag<T>{}) for every T in the list, in order.
template <class... Ts, class Fn>
constexpr void for_each_type(type_list<Ts...>, Fn&& fn) {
  (fn(type_tag<Ts>{}), ...);
}

}  // namespace pagoda
