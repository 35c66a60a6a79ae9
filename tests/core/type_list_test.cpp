// The one fold (core/type_list.hpp): a runtime key becomes a call instantiated
// for the matching type or list entry; a key that matches nothing goes to the
// caller's handler, never to a default instantiation.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <type_traits>

#include "pagoda/core/type_list.hpp"

using namespace pagoda;

namespace {

struct Small {
  static constexpr int id = 1;
  static constexpr const char* name = "small";
};
struct Large {
  static constexpr int id = 2;
  static constexpr const char* name = "large";
};
using sizes = type_list<Small, Large>;

std::string name_for(int id) {
  return visit_matching(
      sizes{}, [id](auto tag) { return decltype(tag)::type::id == id; },
      [](auto tag) { return std::string(decltype(tag)::type::name); },
      [id]() -> std::string { throw std::invalid_argument("no size " + std::to_string(id)); });
}

struct Shape {
  int threads, rows;
  friend constexpr bool operator==(const Shape&, const Shape&) = default;
};
constexpr Shape shapes[] = {{128, 8}, {256, 16}, {512, 32}};

}  // namespace

TEST_CASE("visit_matching calls the matching type's instantiation and returns its result") {
  CHECK(name_for(1) == "small");
  CHECK(name_for(2) == "large");
}

TEST_CASE("visit_matching hands a key that matches nothing to the caller's handler") {
  CHECK_THROWS_WITH_AS(name_for(3), "no size 3", std::invalid_argument);
  const int fallback = visit_matching(
      sizes{}, [](auto) { return false; }, [](auto) { return 1; }, [] { return -1; });
  CHECK(fallback == -1);
}

TEST_CASE("visit_matching's handler that does not return leaves no value behind") {
  const auto fail = [] { throw std::runtime_error("reported"); };
  CHECK_THROWS_AS(visit_matching(
                      sizes{}, [](auto) { return false; }, [](auto) { return 1; }, fail),
                  std::runtime_error);
}

TEST_CASE("visit_first says whether a type matched, calling fn once") {
  int calls = 0;
  CHECK(visit_first(sizes{}, [](auto tag) { return decltype(tag)::type::id == 2; }, [&](auto) { ++calls; }));
  CHECK(calls == 1);
  CHECK_FALSE(visit_first(sizes{}, [](auto) { return false; }, [&](auto) { ++calls; }));
  CHECK(calls == 1);
}

TEST_CASE("visit_listed turns a listed value into its index as a compile-time constant") {
  for (std::size_t i = 0; i < std::size(shapes); ++i) {
    const std::size_t seen = visit_listed<shapes>(
        shapes[i],
        [](auto index) {
          constexpr Shape s = shapes[decltype(index)::value];  // usable as a template argument
          static_assert(s.threads >= 128);
          return decltype(index)::value;
        },
        []() -> std::size_t { throw std::logic_error("unlisted"); });
    CHECK(seen == i);
  }
  CHECK_THROWS_AS(visit_listed<shapes>(Shape{64, 2}, [](auto) {}, [] { throw std::logic_error("unlisted"); }),
                  std::logic_error);
}

TEST_CASE("contains says whether a type is one of a list's") {
  using list = type_list<int, float>;
  static_assert(contains<int>(list{}) && contains<float>(list{}));
  static_assert(!contains<double>(list{}) && !contains<int>(type_list<>{}));
  CHECK(contains<float>(list{}));
}
