// gguf::Writer streaming to disk (temporary name, then rename), read back
// through mapping::ReadOnlyFile and gguf::MappedFile; and the mapping's own
// refusals.
#include <doctest/doctest.h>

#include <fstream>
#include <stdexcept>

#include "gguf_builders.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/read_only_file.hpp"

using namespace pagoda::gguf;
using pagoda::gguf::testing::contains;
using pagoda::gguf::testing::pattern_bytes;
using pagoda::gguf::testing::ScratchDir;
using pagoda::mapping::ReadOnlyFile;

namespace {

// A writer with a streamed tensor larger than the file sink's 4 MiB buffer.
Writer streaming_writer() {
  Writer writer;
  writer.add("general.architecture", "llama").add_array("v", {1u, 2u, 3u});
  writer.add_tensor("small", {32, 2}, TensorType::Q8_0, pattern_bytes(68, 3));
  writer.add_tensor("large", {1024, 2600}, TensorType::F32, [](std::uint64_t offset, std::span<std::byte> out) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>((offset + i) * 7 % 251);
  });
  writer.add_tensor("after", {256}, TensorType::Q4_K, pattern_bytes(144, 4));
  return writer;
}

std::size_t entries_in(const std::filesystem::path& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir), {}));
}

}  // namespace

TEST_CASE("a file written to disk holds exactly the bytes to_bytes() returns, and maps and parses") {
  ScratchDir dir;
  const auto path = dir.path() / "model.gguf";
  const Writer writer = streaming_writer();
  writer.write(path);
  const auto expected = writer.to_bytes();
  CHECK(std::filesystem::file_size(path) == expected.size());
  CHECK(entries_in(dir.path()) == 1);  // no temporary left beside it

  const auto mapped = MappedFile::open(path);
  CHECK(std::ranges::equal(mapped->mapping().bytes(), expected));
  const File& file = mapped->gguf();
  CHECK(file.name() == path.string());
  const TensorInfo& large = file.tensor("large");
  CHECK(large.byte_size == 1024u * 2600u * 4u);
  CHECK(large.bytes[5'000'000] == static_cast<std::byte>(5'000'000ull * 7 % 251));
  CHECK(std::ranges::equal(file.tensor("after").bytes, pattern_bytes(144, 4)));
}

TEST_CASE("writing over an existing file replaces it whole") {
  ScratchDir dir;
  const auto path = dir.path() / "model.gguf";
  std::ofstream(path) << "old contents";
  Writer writer;
  writer.add("general.name", "new");
  writer.write(path);
  const auto mapped = MappedFile::open(path);
  CHECK(mapped->gguf().get<std::string_view>("general.name") == "new");
}

TEST_CASE("a fill callback that throws leaves neither a temporary nor a changed target") {
  ScratchDir dir;
  const auto path = dir.path() / "model.gguf";
  std::ofstream(path) << "previous";
  Writer writer;
  writer.add_tensor("t", {1 << 22}, TensorType::F32, [](std::uint64_t offset, std::span<std::byte>) {
    if (offset > 0) throw std::runtime_error("generator failed");
  });
  CHECK_THROWS_WITH_AS(writer.write(path), "generator failed", std::runtime_error);
  CHECK(entries_in(dir.path()) == 1);
  std::ifstream in(path);
  std::string text;
  in >> text;
  CHECK(text == "previous");
}

TEST_CASE("writing into a missing directory is a clear error naming the path") {
  ScratchDir dir;
  const auto path = dir.path() / "no" / "such" / "model.gguf";
  Writer writer;
  writer.add("k", 1u);
  try {
    writer.write(path);
    FAIL("write() into a missing directory succeeded");
  } catch (const pagoda::Error& e) {
    CHECK(contains(e.what(), path.string()));
    CHECK(contains(e.what(), "No such file or directory"));
  }
}

TEST_CASE("writing over a directory fails when renaming, and cleans up") {
  ScratchDir dir;
  const auto path = dir.path() / "a-directory";
  std::filesystem::create_directory(path);
  std::filesystem::create_directory(path / "child");
  Writer writer;
  writer.add("k", 1u);
  CHECK_THROWS_WITH_AS(writer.write(path), doctest::Contains("cannot rename"), pagoda::Error);
  CHECK(entries_in(dir.path()) == 1);
  CHECK(std::filesystem::is_directory(path));
}

TEST_CASE("ReadOnlyFile refuses a missing file, naming it and the OS error") {
  ScratchDir dir;
  const auto path = dir.path() / "missing.gguf";
  CHECK_THROWS_WITH_AS(ReadOnlyFile{path}, doctest::Contains((path.string() + ": cannot open: No such file").c_str()),
                       pagoda::Error);
  CHECK_THROWS_WITH_AS(MappedFile::open(path), doctest::Contains("No such file"), pagoda::Error);
}

TEST_CASE("ReadOnlyFile refuses a directory") {
  ScratchDir dir;
  CHECK_THROWS_WITH_AS(ReadOnlyFile{dir.path()}, doctest::Contains("not a regular file"), pagoda::Error);
}

TEST_CASE("an empty file maps to an empty view, which the GGUF parser refuses") {
  ScratchDir dir;
  const auto path = dir.path() / "empty.gguf";
  std::ofstream{path};
  const ReadOnlyFile mapping(path);
  CHECK(mapping.bytes().empty());
  CHECK_THROWS_WITH_AS(MappedFile::open(path), doctest::Contains("magic at byte offset 0: file is only 0 bytes"),
                       pagoda::Error);
}

TEST_CASE("a moved ReadOnlyFile keeps the mapping; the moved-from one is empty") {
  ScratchDir dir;
  const auto path = dir.path() / "m.gguf";
  Writer writer;
  writer.add("k", 1u);
  writer.write(path);
  ReadOnlyFile first(path);
  const auto* data = first.bytes().data();
  ReadOnlyFile second(std::move(first));
  CHECK(second.bytes().data() == data);
  CHECK(first.bytes().empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  CHECK(first.fd() == -1);
  ReadOnlyFile third(path);
  third = std::move(second);
  CHECK(third.bytes().data() == data);
  CHECK(File::parse(third.bytes(), "m").get<std::uint32_t>("k") == 1);
}
