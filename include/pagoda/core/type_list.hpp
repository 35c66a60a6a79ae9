// A compile-time list of types, and the one fold that turns a runtime key into
// a call instantiated for the matching type (visit_matching; visit_first and
// visit_listed are its two shorthands). Each runtime axis of pagoda (quant
// format, mapping policy, a kernel's tile shapes) keeps exactly one list.
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>
#include <stdexcept>
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

namespace detail {

template <class R, class Matches, class Fn, class None, class T, class... Rest>
constexpr R visit_matching_from(Matches& matches, Fn& fn, None& none) {
  if (matches(type_tag<T>{})) return static_cast<R>(fn(type_tag<T>{}));
  if constexpr (sizeof...(Rest) > 0) {
    return visit_matching_from<R, Matches, Fn, None, Rest...>(matches, fn, none);
  } else if constexpr (std::is_void_v<std::invoke_result_t<None&>> && !std::is_void_v<R>) {
    none();  // reports the miss and does not return
    throw std::logic_error("visit_matching: the no-match handler returned");
  } else {
    return static_cast<R>(none());
  }
}

}  // namespace detail

// THE fold of pagoda: a runtime key becomes a call instantiated for the
// matching type. Calls fn(type_tag<T>{}) for the first T in the list with
// matches(type_tag<T>{}) true and returns its result (fn returns the same type
// for every T); when none matches, returns none() (which either returns that
// type or reports the miss and does not return). Every axis (formats,
// policies, kernel tile shapes) dispatches through it, directly or through
// visit_listed below.
template <class First, class... Ts, class Matches, class Fn, class None>
constexpr decltype(auto) visit_matching(type_list<First, Ts...>, Matches&& matches, Fn&& fn, None&& none) {
  using R = std::invoke_result_t<Fn&, type_tag<First>>;
  static_assert((std::is_same_v<R, std::invoke_result_t<Fn&, type_tag<Ts>>> && ...),
                "visit_matching: fn must return the same type for every listed type");
  return detail::visit_matching_from<R, std::remove_reference_t<Matches>, std::remove_reference_t<Fn>,
                                     std::remove_reference_t<None>, First, Ts...>(matches, fn, none);
}

// visit_matching for a side effect: true when a type matched, false otherwise.
template <class... Ts, class Matches, class Fn>
constexpr bool visit_first(type_list<Ts...> list, Matches&& matches, Fn&& fn) {
  if constexpr (sizeof...(Ts) == 0) {
    return false;
  } else {
    return visit_matching(
        list, matches,
        [&](auto tag) {
          fn(tag);
          return true;
        },
        [] { return false; });
  }
}

namespace detail {
template <std::size_t... I>
type_list<std::integral_constant<std::size_t, I>...> index_types(std::index_sequence<I...>);
}  // namespace detail

// A runtime value that must equal one entry of a constexpr array (a kernel's
// listed tile policies, its head sizes) becomes that entry's index as a
// compile-time constant: fn(std::integral_constant<std::size_t, I>{}) for the
// first I with Values[I] == value; none() when no entry equals it (a tuning
// value that matches no instantiation is an error, never a silent default).
template <const auto& Values, class T, class Fn, class None>
constexpr decltype(auto) visit_listed(const T& value, Fn&& fn, None&& none) {
  using Indices = decltype(detail::index_types(std::make_index_sequence<std::size(Values)>{}));
  return visit_matching(
      Indices{}, [&](auto tag) { return Values[decltype(tag)::type::value] == value; },
      [&](auto tag) -> decltype(auto) { return fn(typename decltype(tag)::type{}); }, none);
}

// Whether T is one of the list's types.
template <class T, class... Ts>
constexpr bool contains(type_list<Ts...>) {
  return (std::is_same_v<T, Ts> || ...);
}

// Calls fn(type_tag<T>{}) for every T in the list, in order.
template <class... Ts, class Fn>
constexpr void for_each_type(type_list<Ts...>, Fn&& fn) {
  (fn(type_tag<Ts>{}), ...);
}

}  // namespace pagoda
