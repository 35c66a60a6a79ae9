// Stop strings over text that arrives in pieces.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "stop_matcher.hpp"

namespace pagoda::server {

namespace {

// Feeds the pieces; returns everything released and whether it stopped.
std::pair<std::string, bool> run(StopMatcher& m, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& piece : pieces) {
    const auto r = m.feed(piece);
    out += r.text;
    if (r.stopped) return {out, true};
  }
  return {out + m.flush(), false};
}

}  // namespace

TEST_CASE("without stop strings every piece passes at once") {
  StopMatcher m({});
  CHECK(m.feed("Hello").text == "Hello");
  CHECK(m.held_bytes() == 0);
}

TEST_CASE("a stop string split across pieces is found, and nothing from it on is released") {
  StopMatcher m({"END"});
  auto r = m.feed("The answer E");
  CHECK(r.text == "The answer ");  // "E" might start END: held
  CHECK(m.held_bytes() == 1);
  r = m.feed("N");
  CHECK(r.text.empty());
  r = m.feed("D and more");
  CHECK(r.stopped);
  CHECK(r.text.empty());
  CHECK(m.feed("later").text.empty());
  CHECK(m.flush().empty());
}

TEST_CASE("held text that turns out not to be a stop string is released") {
  StopMatcher m({"END"});
  CHECK(run(m, {"E", "N", "ough"}) == std::pair<std::string, bool>{"ENough", false});
  StopMatcher tail({"END"});
  CHECK(run(tail, {"ok E"}) == std::pair<std::string, bool>{"ok E", false});  // flushed at the end
}

TEST_CASE("the earliest of several stop strings wins, whatever their order") {
  StopMatcher m({"world", "lo"});
  CHECK(run(m, {"Hello world"}) == std::pair<std::string, bool>{"Hel", true});
  StopMatcher newline({"\n\n", "."});
  CHECK(run(newline, {"One", ".", " Two"}) == std::pair<std::string, bool>{"One", true});
}

TEST_CASE("a held-back tail never splits a UTF-8 character") {
  // "é" is C3 A9; the stop string starts with A9's byte only in a contrived
  // case, so use a stop string that starts with the whole character.
  StopMatcher m({"é!"});
  const auto r = m.feed("café");
  CHECK(r.text == "caf");
  CHECK(run(m, {"?"}) == std::pair<std::string, bool>{"é?", false});
}

}  // namespace pagoda::server
