// select_policy on named platforms: every rule of mapping/selection.hpp as a
// specification, with the reasons it must leave behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "pagoda/core/error.hpp"
#include "pagoda/mapping/capability_presets.hpp"
#include "pagoda/mapping/selection.hpp"

using namespace pagoda::mapping;
using presets::gib;
using presets::mib;

namespace {

const Consideration& considered(const Selection& s, PolicyId id) {
  const auto it = std::ranges::find(s.considered, id, &Consideration::policy);
  REQUIRE(it != s.considered.end());
  return *it;
}

bool mentions(const std::string& text, const std::string& word) { return text.find(word) != std::string::npos; }

std::string error_of(const Capabilities& caps, std::uint64_t model, std::uint64_t kv, UserChoice choice) {
  try {
    (void)select_policy(caps, model, kv, choice);
  } catch (const pagoda::Error& e) {
    return e.what();
  }
  return {};
}

constexpr std::uint64_t kv = 512 * mib;

}  // namespace

TEST_CASE("a GB10-like machine gets HmmDirect, never per-tensor device copies") {
  // The brief's failure: an 80 GiB model, registration refused, HMM available.
  const Selection s = select_policy(presets::gb10_like(), 80 * gib, 4 * gib, {});
  CHECK(s.policy == PolicyId::hmm_direct);
  CHECK(s.residence == Residence::host);
  CHECK_FALSE(s.fallback);
  CHECK(considered(s, PolicyId::hmm_direct).verdict == Verdict::chosen);
  CHECK(considered(s, PolicyId::device_copy).verdict != Verdict::chosen);
  CHECK(considered(s, PolicyId::host_registered).verdict == Verdict::impossible);
  CHECK(mentions(considered(s, PolicyId::host_registered).reason, "hostRegisterSupported=1"));
  // A small model too: an integrated GPU never copies, however much fits.
  CHECK(select_policy(presets::gb10_like(), 1 * gib, kv, {}).policy == PolicyId::hmm_direct);
}

TEST_CASE("a discrete GPU with room gets DeviceCopy") {
  const Selection s = select_policy(presets::h100_pcie(), 4 * gib + 330 * mib, kv, {});
  CHECK(s.policy == PolicyId::device_copy);
  CHECK(s.residence == Residence::device);
  CHECK(considered(s, PolicyId::device_copy).verdict == Verdict::chosen);
  CHECK(mentions(considered(s, PolicyId::device_copy).reason, "fits"));
  CHECK(considered(s, PolicyId::host_registered).verdict == Verdict::passed_over);
  CHECK(considered(s, PolicyId::hmm_direct).verdict == Verdict::impossible);
  CHECK(s.ceiling.link == "VRAM");
  CHECK(s.ceiling.tokens_per_second == doctest::Approx(2991e9 / static_cast<double>(4 * gib + 330 * mib)));
  CHECK(select_policy(presets::small_discrete(), 4 * gib, kv, {}).policy == PolicyId::device_copy);
}

TEST_CASE("too little VRAM gives a host-resident policy with the decode ceiling of its link") {
  // A 70B Q4 model on the H100: 40 GiB fits; 90 GiB does not.
  const std::uint64_t model = 90 * gib;
  const Selection s = select_policy(presets::h100_pcie(), model, 2 * gib, {});
  CHECK(s.policy == PolicyId::hugepage_import);
  CHECK(s.residence == Residence::host);
  CHECK(considered(s, PolicyId::device_copy).verdict == Verdict::impossible);
  CHECK(mentions(considered(s, PolicyId::device_copy).reason, "free VRAM"));
  CHECK(s.ceiling.link_gb_s == doctest::Approx(50.0));
  CHECK(s.ceiling.bytes_per_token == model);
  CHECK(s.ceiling.tokens_per_second == doctest::Approx(50e9 / static_cast<double>(model)));
  CHECK(mentions(to_string(s), "tok/s"));

  SUBCASE("the measured link figure replaces the brief's default") {
    SelectionAssumptions measured;
    measured.links.host_zero_copy_read_gb_s = 40.0;
    const Selection m = select_policy(presets::h100_pcie(), model, 2 * gib, {}, measured);
    CHECK(m.ceiling.tokens_per_second == doctest::Approx(40e9 / static_cast<double>(model)));
  }
  SUBCASE("on a small card too") {
    CHECK(select_policy(presets::small_discrete(), 12 * gib, kv, {}).residence == Residence::host);
  }
}

TEST_CASE("headroom counts: a model that fits VRAM only without headroom stays on the host") {
  Capabilities c = presets::small_discrete();
  const std::uint64_t model = c.device.free_vram_bytes - kv - 256 * mib;  // fits without the 1 GiB headroom
  CHECK(select_policy(c, model, kv, {}).residence == Residence::host);
  SelectionAssumptions tight;
  tight.vram_headroom_bytes = 128 * mib;
  CHECK(select_policy(c, model, kv, {}, tight).policy == PolicyId::device_copy);
}

TEST_CASE("off a coherent link, host-resident weights go to memory pagoda owns, on hugetlb pages where a pool has room") {
  Capabilities c = presets::h100_pcie();
  c.os.hugepage_pools[0].total_pages = c.os.hugepage_pools[0].free_pages = 50'000;  // 2 MiB x 50000 = 97.6 GiB
  const Selection s = select_policy(c, 90 * gib, 2 * gib, {});
  CHECK(s.policy == PolicyId::hugepage_import);
  CHECK(mentions(considered(s, PolicyId::hugepage_import).reason, "hugetlb pool holds the whole model"));
  // Without the pages, THP; the page cache is registered only when asked for.
  const Selection without = select_policy(presets::h100_pcie(), 90 * gib, 2 * gib, {});
  CHECK(without.policy == PolicyId::hugepage_import);
  CHECK(mentions(considered(without, PolicyId::hugepage_import).reason, "THP"));
  CHECK(considered(without, PolicyId::host_registered).verdict == Verdict::passed_over);
}

TEST_CASE("an integrated GPU gets no copy") {
  const Selection s = select_policy(presets::integrated_apu(), 2 * gib, kv, {});
  CHECK(s.policy != PolicyId::device_copy);
  CHECK(s.residence == Residence::host);
  // No HMM and no read-only registration on this APU: its own anonymous memory it can register.
  CHECK(s.policy == PolicyId::hugepage_import);
  CHECK(considered(s, PolicyId::host_registered).verdict == Verdict::impossible);
  CHECK(mentions(considered(s, PolicyId::host_registered).reason, "hostRegisterReadOnlySupported"));
  CHECK(considered(s, PolicyId::hmm_direct).verdict == Verdict::impossible);
  CHECK(considered(s, PolicyId::device_copy).verdict == Verdict::passed_over);
  CHECK(s.ceiling.link == "shared memory (integrated GPU)");
}

TEST_CASE("a coherent discrete GPU (GH200) copies what fits and reads the rest in place") {
  CHECK(select_policy(presets::gh200_like(), 40 * gib, 4 * gib, {}).policy == PolicyId::device_copy);
  const Selection big = select_policy(presets::gh200_like(), 200 * gib, 4 * gib, {});
  CHECK(big.policy == PolicyId::hmm_direct);
  CHECK(big.ceiling.link == "coherent host memory");
}

TEST_CASE("HmmDirect forced on the H100 is a clear error naming the policy and the missing capability") {
  const std::string error = error_of(presets::h100_pcie(), 4 * gib, kv, {PolicyId::hmm_direct, false});
  CHECK(mentions(error, "hmm-direct"));
  CHECK(mentions(error, "pageableMemoryAccess"));
  CHECK(mentions(error, "NVIDIA H100"));
}

TEST_CASE("a forced policy the platform cannot do falls back only when allowed, and says so") {
  const Selection s = select_policy(presets::h100_pcie(), 4 * gib, kv, {PolicyId::hmm_direct, true});
  CHECK(s.policy == PolicyId::device_copy);
  REQUIRE(s.fallback);
  CHECK(mentions(*s.fallback, "hmm-direct was requested"));
  CHECK(mentions(*s.fallback, "pageableMemoryAccess"));
  CHECK(mentions(*s.fallback, "device-copy"));
  CHECK_FALSE(s.forced);
  CHECK(mentions(to_string(s), "fallback"));

  SUBCASE("registration forced on a GB10 falls back to HmmDirect, never to copies") {
    const Selection g = select_policy(presets::gb10_like(), 80 * gib, 4 * gib, {PolicyId::host_registered, true});
    CHECK(g.policy == PolicyId::hmm_direct);
    REQUIRE(g.fallback);
    CHECK(mentions(*g.fallback, "hostRegisterSupported"));
  }
  SUBCASE("without permission it is an error") {
    const std::string error = error_of(presets::gb10_like(), 80 * gib, 4 * gib, {PolicyId::host_registered, false});
    CHECK(mentions(error, "host-registered"));
    CHECK(mentions(error, "hostRegisterSupported=1"));
  }
}

TEST_CASE("a forced policy the platform can do is taken as asked") {
  const Selection s = select_policy(presets::h100_pcie(), 4 * gib, kv, {PolicyId::host_registered, false});
  CHECK(s.policy == PolicyId::host_registered);
  CHECK(s.forced);
  CHECK_FALSE(s.fallback);
  CHECK(mentions(considered(s, PolicyId::host_registered).reason, "requested by the user"));
  CHECK(considered(s, PolicyId::device_copy).verdict == Verdict::passed_over);
  // DeviceCopy forced with too little VRAM is refused like any other impossibility.
  CHECK(mentions(error_of(presets::small_discrete(), 12 * gib, kv, {PolicyId::device_copy, false}), "free VRAM"));
}

TEST_CASE("nothing can be chosen without a device, or when the KV cache alone exceeds VRAM") {
  CHECK(mentions(error_of(presets::no_device(), gib, kv, {}), "no CUDA device"));
  CHECK(mentions(error_of(presets::small_discrete(), gib, 16 * gib, {}), "KV cache"));
}

TEST_CASE("a model larger than host RAM cannot be host-resident either") {
  const std::string error = error_of(presets::small_discrete(), 40 * gib, kv, {});
  CHECK(mentions(error, "no mapping policy"));
  CHECK(mentions(error, "host RAM"));
}

TEST_CASE("every selection names all four policies, each with a reason") {
  for (const Capabilities& c : {presets::h100_pcie(), presets::gb10_like(), presets::gh200_like(),
                                presets::small_discrete(), presets::integrated_apu()}) {
    const Selection s = select_policy(c, 6 * gib, kv, {});
    REQUIRE(s.considered.size() == all_policy_ids.size());
    CHECK(std::ranges::count(s.considered, Verdict::chosen, &Consideration::verdict) == 1);
    for (const Consideration& option : s.considered) CHECK_FALSE(option.reason.empty());
  }
}
