// The fuzzer's committed seed corpus (tests/fuzz/corpus/, made by
// tests/fuzz/make_corpus.cpp) stays what its names say: each bad_* file is
// refused with a message, every other file parses.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

#include "gguf_builders.hpp"

TEST_CASE("the fuzz seed corpus holds valid files and near-valid files the reader refuses") {
  const std::filesystem::path corpus = std::filesystem::path(PAGODA_TEST_DATA_DIR) / ".." / "fuzz" / "corpus";
  REQUIRE_MESSAGE(std::filesystem::is_directory(corpus), "missing seed corpus " << corpus.string());
  int valid = 0;
  int refused = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string();
    CAPTURE(name);
    std::ifstream in(entry.path(), std::ios::binary);
    const std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
    const std::string message = pagoda::gguf::testing::parse_error(std::as_bytes(std::span(chars)));
    if (name.starts_with("bad_")) {
      CHECK_FALSE(message.empty());
      ++refused;
    } else {
      CHECK(message.empty());
      ++valid;
    }
  }
  CHECK(valid >= 10);
  CHECK(refused >= 5);
}
