// What loading an Engine<Policy> leaves behind: where its time went, and no
// weight bytes in RAM once a copying policy has placed them elsewhere — the
// engine reads its small tensors (norm weights, biases) from the placed
// weights, never back through the file mapping whose page cache the policy
// let go of.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <span>
#include <filesystem>
#include <optional>
#include <string>

#include <unistd.h>

#include "mapping/mapping_fixtures.hpp"
#include "pagoda/core/error.hpp"
#include "pagoda/gguf/mapped_file.hpp"
#include "pagoda/mapping/device_copy.hpp"
#include "pagoda/mapping/hugepage_import.hpp"
#include "pagoda/mapping/page_cache.hpp"
#include "pagoda/mapping/weight_section.hpp"
#include "pagoda/model/synthetic.hpp"
#include "pagoda/runtime/engine.hpp"
#include "support/real_model.hpp"
#include "support/scratch_dir.hpp"
#include "support/skip.hpp"

using namespace pagoda;

namespace {

// A SmolLM2-shaped synthetic model of this test's own (no other process maps
// it), synced so that its page cache is clean and can be dropped.
std::filesystem::path private_small_model(const std::filesystem::path& dir) {
  const auto path = dir / "smollm2-135m-q4_0.gguf";
  model::SyntheticSpec spec{.shape = model::find_shape("smollm2-135m"),
                            .recipe = model::QuantRecipe::uniform(gguf::TensorType::Q4_0), .seed = 3};
  model::write_synthetic(spec, path);
  mapping::testing::sync_file(path);
  return path;
}

template <class Policy>
void check_nothing_read_back(const std::filesystem::path& path) {
  const auto file = gguf::MappedFile::open(path);
  const mapping::WeightSection section(file->gguf());
  std::optional<runtime::Engine<Policy>> engine;
  try {
    engine.emplace(*file, typename Policy::Options{}, runtime::EngineOptions{.context_size = 64});
  } catch (const Error& refused) {
    PAGODA_SKIP(std::string(mapping::name_of(Policy::id)) + " refused here: " + refused.what());
  }
  const mapping::PlacementReport report = engine->placement();
  MESSAGE(mapping::to_string(report));
  CHECK(report.page_cache_bytes == 0);
  // After the whole engine is built, too: no norm weight came back from disk.
  // The page the metadata ends in also holds the first weight bytes; reading
  // the metadata (tensor names are views into it) maps it, so it is left out.
  const std::span<const std::byte> weights = section.bytes();
  const auto start = reinterpret_cast<std::uintptr_t>(weights.data());
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t shared_with_metadata = std::min<std::size_t>((page - start % page) % page, weights.size());
  CHECK(mapping::resident_bytes(weights.subspan(shared_with_metadata)) == 0);
}

}  // namespace

TEST_CASE("after a DeviceCopy load no weight byte is in RAM: nothing read them back through the file") {
  const test::ScratchDir dir;
  check_nothing_read_back<mapping::DeviceCopy>(private_small_model(dir.path()));
}

TEST_CASE("after a HugepageImport load no weight byte is in RAM: nothing read them back through the file") {
  const test::ScratchDir dir;
  check_nothing_read_back<mapping::HugepageImport>(private_small_model(dir.path()));
}

// The engine's stages are timed inside its constructor and its total is its
// own clock; both are checked against a wall clock read around the
// constructor here, so a stage left out of the total, or counted twice, fails.
TEST_CASE("an engine says where its load went: its total is the constructor's wall time, the policy's its report's") {
  const auto file = gguf::MappedFile::open(test::require_default_model());
  const auto start = std::chrono::steady_clock::now();
  const runtime::Engine<mapping::DeviceCopy> engine(*file, {}, {.context_size = 64});
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const runtime::LoadTimes& times = engine.load_times();
  MESSAGE(runtime::to_string(times) << "; constructor wall time " << wall << " s");
  CHECK(times.total > 0);
  CHECK(times.total <= wall);
  CHECK(times.total >= 0.95 * wall - 0.005);  // nothing but the first member's set-up lies outside it
  CHECK(times.policy == engine.placement().total_seconds);
  // The measured stages fit inside the total: what remains (engine_core) is not negative.
  CHECK(times.model_binding + times.policy + times.device_model <= times.total);
  for (const double stage : {times.model_binding, times.policy, times.device_model, times.engine_core})
    CHECK(stage >= 0);
}
