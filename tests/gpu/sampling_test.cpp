// kernels::Sampler against cpu::Sampler: for random logits without ties the
// GPU must choose exactly the CPU's token at every (seed, step), on every path
// (greedy, block_top_k, device_sort), with and without penalties; one sample()
// captured in a CUDA graph and replayed must advance the device step and match
// the CPU's sequence; a NaN or infinite logit is reported on request. Timings
// are not here: pagoda-kernel-bench's sampling section times each parameter
// set and each block_top_k policy.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <cuda_runtime_api.h>

#include "pagoda/core/error.hpp"
#include "pagoda/cpu/sampler.hpp"
#include "pagoda/kernels/sampling.cuh"
#include "pagoda/core/cuda_raii.hpp"

using namespace pagoda;
using kernels::SamplingPath;
using runtime::SamplingParams;

namespace {

void cuda_ok(cudaError_t status, const char* what) {
  REQUIRE_MESSAGE(status == cudaSuccess, what << ": " << cudaGetErrorName(status));
}

// A device array of T, poisoned (all bits set) on creation.
template <class T>
class DeviceArray {
public:
  explicit DeviceArray(std::size_t count) : buffer_(count * sizeof(T), "sampling test") {
    cuda_ok(cudaMemset(buffer_.data(), 0xFF, buffer_.size()), "poison");
  }
  [[nodiscard]] T* get() const { return reinterpret_cast<T*>(buffer_.data()); }
  // On the sampler's stream: a plain cudaMemcpy from pageable memory may return
  // before its DMA lands, and the legacy stream does not order non-blocking streams.
  void upload(const std::vector<T>& host, cudaStream_t stream) {
    cuda_ok(cudaMemcpyAsync(get(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice, stream), "upload");
    cuda_ok(cudaStreamSynchronize(stream), "upload");
  }
  [[nodiscard]] std::vector<T> download() const {
    std::vector<T> host(buffer_.size() / sizeof(T));
    cuda_ok(cudaDeviceSynchronize(), "kernels");
    cuda_ok(cudaMemcpy(host.data(), get(), buffer_.size(), cudaMemcpyDeviceToHost), "download");
    return host;
  }

private:
  pagoda::DeviceBuffer buffer_;
};

// Distinct logits drawn from N(0, scale): each step shuffles them anew.
class TieFreeLogits {
public:
  TieFreeLogits(std::size_t vocab, float scale, std::uint32_t seed) : rng_(seed), values_(vocab) {
    std::normal_distribution<float> normal(0.0f, scale);
    for (float& v : values_) v = normal(rng_);
    std::sort(values_.begin(), values_.end());
    for (std::size_t i = 1; i < values_.size(); ++i)
      if (values_[i] <= values_[i - 1]) values_[i] = std::nextafter(values_[i - 1], INFINITY);
  }
  const std::vector<float>& next() {
    std::shuffle(values_.begin(), values_.end(), rng_);
    return values_;
  }

private:
  std::mt19937 rng_;
  std::vector<float> values_;
};

std::vector<std::int32_t> random_prompt(std::size_t vocab, std::size_t length, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> id(0, static_cast<std::int32_t>(vocab) - 1);
  std::vector<std::int32_t> prompt(length);
  for (auto& t : prompt) t = id(rng);
  // Repeats, so counts above one are penalised too.
  for (std::size_t i = 1; i < prompt.size(); i += 3) prompt[i] = prompt[i - 1];
  return prompt;
}

struct Combination {
  const char* name;
  SamplingParams params;
};

constexpr SamplingParams make(float temperature, int top_k, float top_p, float min_p, float repeat = 1.0f,
                    float frequency = 0.0f, float presence = 0.0f, int last_n = 64) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.min_p = min_p;
  p.repeat_penalty = repeat;
  p.frequency_penalty = frequency;
  p.presence_penalty = presence;
  p.penalty_last_n = last_n;
  p.seed = 0x5EED0000u + static_cast<std::uint64_t>(top_k);
  return p;
}

const std::vector<Combination>& combinations() {
  static const std::vector<Combination> all{
      {"defaults", SamplingParams{}},
      {"greedy", make(0.0f, 40, 0.95f, 0.05f)},
      {"greedy+penalties", make(0.0f, 40, 0.95f, 0.05f, 1.3f, 0.2f, 0.3f)},
      {"top_k=1", make(0.8f, 1, 1.0f, 0.0f)},
      {"top_k=256 top_p=0.98", make(1.0f, 256, 0.98f, 0.0f)},
      {"top_k=100 top_p=0.5 min_p=0.1 T=2 +penalties", make(2.0f, 100, 0.5f, 0.1f, 1.5f, 0.0f, 0.0f, 256)},
      {"defaults+penalties", make(0.8f, 40, 0.95f, 0.05f, 1.1f, 0.5f, 0.5f)},
      {"top_k=0 top_p=0.9", make(1.0f, 0, 0.9f, 0.0f)},
      {"top_k=0 pure temperature 1.5", make(1.5f, 0, 1.0f, 0.0f)},
      {"top_k=0 min_p=0.02 T=0.7 +penalties", make(0.7f, 0, 1.0f, 0.02f, 1.2f, 0.1f, 0.0f, 128)},
      {"top_k=1000 top_p=0.8", make(1.0f, 1000, 0.8f, 0.0f)},
  };
  return all;
}

// Runs `steps` steps on both samplers; returns the number of disagreements
// (the first few are described).
int disagreements(std::size_t vocab, const SamplingParams& params, int steps, float scale, std::uint32_t seed,
                  const kernels::SamplingPolicy& policy = kernels::sampling_policy) {
  pagoda::CudaStream stream("sampling test");
  kernels::Sampler gpu(vocab, params, stream.get(), policy);
  cpu::Sampler cpu(vocab, params);
  std::vector<std::int32_t> history = random_prompt(vocab, 100, seed);
  gpu.reset(history);
  TieFreeLogits source(vocab, scale, seed);
  DeviceArray<float> logits(vocab);
  DeviceArray<std::int32_t> token(1);
  int wrong = 0;
  for (int step = 0; step < steps; ++step) {
    const std::vector<float>& host_logits = source.next();
    logits.upload(host_logits, stream.get());
    gpu.sample(logits.get(), token.get(), stream.get());
    stream.synchronize("sample");
    const std::int32_t got = token.download()[0];
    const std::int32_t want = cpu.sample(host_logits, history);
    history.push_back(want);
    if (got == want) continue;
    if (++wrong <= 3) {
      const bool valid = got >= 0 && static_cast<std::size_t>(got) < vocab;
      MESSAGE("step " << step << ": GPU " << got << " (logit " << (valid ? host_logits[static_cast<std::size_t>(got)] : NAN)
                      << "), CPU " << want << " (logit " << host_logits[static_cast<std::size_t>(want)] << ")");
    }
    history.back() = got;  // keep the GPU's ring and the CPU's history alike
  }
  CHECK(gpu.step() == static_cast<std::uint64_t>(steps));
  return wrong;
}

const SamplingParams& combination(const std::string& name) {
  for (const Combination& c : combinations())
    if (name == c.name) return c.params;
  throw std::runtime_error("no combination " + name);
}

// Block shapes other than the default, each checked against the CPU.
std::vector<kernels::SamplingPolicy> alternative_policies() {
  return {{{256, 8}, {512, 8}, 256}, {{512, 8}, {512, 4}, 256}, {{256, 8}, {256, 4}, 256}, {{128, 8}, {256, 4}, 256}};
}

std::string policy_name(const kernels::SamplingPolicy& p) {
  return "prefilter " + std::to_string(p.prefilter.threads) + "x" + std::to_string(p.prefilter.items) + ", final " +
         std::to_string(p.final_block.threads) + "x" + std::to_string(p.final_block.items);
}

}  // namespace

TEST_CASE("the sampling path follows the parameters and the vocabulary") {
  static_assert(kernels::select_sampling_path(128256, make(0.0f, 40, 0.9f, 0.1f)) == SamplingPath::greedy);
  static_assert(kernels::select_sampling_path(128256, SamplingParams{}) == SamplingPath::block_top_k);
  static_assert(kernels::select_sampling_path(128256, make(1.0f, 0, 0.9f, 0.0f)) == SamplingPath::device_sort);
  static_assert(kernels::select_sampling_path(128256, make(1.0f, 257, 0.9f, 0.0f)) == SamplingPath::device_sort);
  static_assert(kernels::select_sampling_path(1024, make(1.0f, 0, 0.9f, 0.0f)) == SamplingPath::block_top_k);
  static_assert(kernels::select_sampling_path(1025, make(1.0f, 0, 0.9f, 0.0f)) == SamplingPath::device_sort);
  CHECK(std::string(kernels::sampling_path_name(SamplingPath::device_sort)) == "device_sort");
  // A policy must name instantiated shapes and keep the rounds shrinking.
  CHECK_THROWS_AS(kernels::Sampler(1000, SamplingParams{}, nullptr, {{100, 3}, {512, 8}, 16}), Error);
  CHECK_THROWS_AS(kernels::Sampler(1000, SamplingParams{}, nullptr, {{256, 8}, {512, 8}, 1024}), Error);
}

TEST_CASE("kernels::Sampler chooses the CPU sampler's token at every step, on every path") {
  for (const std::size_t vocab : {std::size_t{49152}, std::size_t{128256}}) {
    for (const Combination& c : combinations()) {
      const SamplingPath path = kernels::select_sampling_path(vocab, c.params);
      CAPTURE(vocab);
      CAPTURE(std::string(c.name));
      CAPTURE(std::string(kernels::sampling_path_name(path)));
      const float scale = c.params.top_k == 0 ? 3.0f : 2.0f;
      CHECK(disagreements(vocab, c.params, 200, scale, static_cast<std::uint32_t>(vocab + 17)) == 0);
    }
  }
}

TEST_CASE("kernels::Sampler agrees with the CPU on small and ragged vocabularies (one block, several rounds)") {
  const std::vector<std::pair<std::size_t, SamplingParams>> cases{
      {1, SamplingParams{}},
      {1000, make(1.0f, 0, 0.9f, 0.05f)},
      {1024, make(1.3f, 0, 1.0f, 0.0f, 1.2f, 0.3f, 0.1f)},
      {1025, make(1.0f, 256, 0.95f, 0.0f)},
      {3000, make(1.0f, 0, 0.9f, 0.05f)},
      {30001, make(0.9f, 17, 0.9f, 0.02f)},
  };
  for (const auto& [vocab, params] : cases) {
    CAPTURE(vocab);
    CHECK(disagreements(vocab, params, 200, 2.0f, 5) == 0);
  }
}

TEST_CASE("greedy sampling is the argmax of the logits") {
  const std::size_t vocab = 128256;
  pagoda::CudaStream stream("greedy test");
  kernels::Sampler gpu(vocab, make(0.0f, 40, 0.95f, 0.05f), stream.get());
  TieFreeLogits source(vocab, 2.0f, 3);
  DeviceArray<float> logits(vocab);
  DeviceArray<std::int32_t> token(1);
  for (int step = 0; step < 20; ++step) {
    const std::vector<float>& host = source.next();
    logits.upload(host, stream.get());
    gpu.sample(logits.get(), token.get(), stream.get());
    stream.synchronize("sample");
    CHECK(token.download()[0] == std::max_element(host.begin(), host.end()) - host.begin());
  }
}

TEST_CASE("one sample() captured in a CUDA graph replays as the CPU sampler's sequence") {
  const std::size_t vocab = 128256;
  const int replays = 64;
  for (const SamplingParams& params : {make(0.8f, 40, 0.95f, 0.05f, 1.1f, 0.5f, 0.5f), make(1.0f, 0, 0.9f, 0.02f),
                                       make(0.0f, 40, 0.95f, 0.05f, 1.3f, 0.0f, 0.0f)}) {
    CAPTURE(std::string(kernels::sampling_path_name(kernels::select_sampling_path(vocab, params))));
    pagoda::CudaStream stream("graph test");
    kernels::Sampler gpu(vocab, params, stream.get());
    cpu::Sampler cpu(vocab, params);
    std::vector<std::int32_t> history = random_prompt(vocab, 80, 9);
    gpu.reset(history);
    DeviceArray<float> logits(vocab);
    DeviceArray<std::int32_t> token(1);
    TieFreeLogits source(vocab, 2.0f, 21);

    // One ordinary call first (its kernels load before capture), checked like the rest.
    const std::vector<float>& first = source.next();
    logits.upload(first, stream.get());
    gpu.sample(logits.get(), token.get(), stream.get());
    const std::int32_t first_want = cpu.sample(first, history);
    CHECK(token.download()[0] == first_want);
    history.push_back(first_want);

    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    cuda_ok(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeThreadLocal), "begin capture");
    gpu.sample(logits.get(), token.get(), stream.get());
    cuda_ok(cudaStreamEndCapture(stream.get(), &graph), "end capture");
    cuda_ok(cudaGraphInstantiate(&exec, graph, 0), "instantiate");
    CHECK(gpu.step() == 1);  // capturing ran nothing

    int wrong = 0;
    for (int i = 0; i < replays; ++i) {
      const std::vector<float>& host = source.next();
      cuda_ok(cudaMemcpyAsync(logits.get(), host.data(), vocab * sizeof(float), cudaMemcpyHostToDevice, stream.get()),
              "upload");
      cuda_ok(cudaGraphLaunch(exec, stream.get()), "replay");
      std::int32_t got = -1;
      cuda_ok(cudaMemcpyAsync(&got, token.get(), sizeof(got), cudaMemcpyDeviceToHost, stream.get()), "download");
      stream.synchronize("replay");
      const std::int32_t want = cpu.sample(host, history);
      history.push_back(want);
      wrong += got != want;
    }
    CHECK(wrong == 0);
    CHECK(gpu.step() == static_cast<std::uint64_t>(replays) + 1);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
  }
}

TEST_CASE("kernels::Sampler agrees with the CPU under every listed block_top_k policy") {
  for (const kernels::SamplingPolicy& policy : alternative_policies()) {
    CAPTURE(policy_name(policy));
    for (const std::size_t vocab : {std::size_t{49152}, std::size_t{128256}})
      for (const char* name : {"defaults", "top_k=256 top_p=0.98", "defaults+penalties",
                               "top_k=100 top_p=0.5 min_p=0.1 T=2 +penalties"}) {
        CAPTURE(vocab);
        CAPTURE(std::string(name));
        CHECK(disagreements(vocab, combination(name), 100, 2.0f, 11, policy) == 0);
      }
    const auto capacity = static_cast<std::size_t>(policy.final_block.capacity());
    for (const std::size_t vocab : {capacity, capacity + 1}) {
      CAPTURE(vocab);
      CHECK(disagreements(vocab, combination("defaults"), 100, 2.0f, 12, policy) == 0);
    }
  }
}

TEST_CASE("a NaN or infinite logit is reported on every path, and the token is still the CPU sampler's") {
  // The chain's first read of the logits notes the id: the argmax's load
  // (greedy), the first prefilter round or the one block (block_top_k), the
  // sanitizing copy (device_sort, or any path with penalties).
  const std::vector<std::pair<std::size_t, SamplingParams>> cases{
      {128256, make(0.0f, 40, 0.95f, 0.05f)},                    // greedy
      {128256, make(0.0f, 40, 0.95f, 0.05f, 1.3f, 0.2f, 0.3f)},  // greedy, penalised copy
      {128256, SamplingParams{}},                                // block_top_k, prefilter rounds
      {1000, SamplingParams{}},                                  // block_top_k, one block
      {128256, make(1.0f, 0, 0.9f, 0.0f)},                       // device_sort
  };
  for (const auto& [vocab, params] : cases) {
    CAPTURE(vocab);
    CAPTURE(std::string(kernels::sampling_path_name(kernels::select_sampling_path(vocab, params))));
    pagoda::CudaStream stream("non-finite test");
    kernels::Sampler gpu(vocab, params, stream.get());
    cpu::Sampler cpu(vocab, params);
    std::vector<std::int32_t> history;
    TieFreeLogits source(vocab, 2.0f, 31);
    DeviceArray<float> logits(vocab);
    DeviceArray<std::int32_t> out(2);
    // Returns the report; the token must be the CPU's where the chain is
    // defined (finite logits, NaN counted as -inf, -inf; not +inf).
    const auto step = [&](const std::vector<float>& host, bool same_token) {
      logits.upload(host, stream.get());
      gpu.sample(logits.get(), out.get(), stream.get(), out.get() + 1);
      stream.synchronize("sample");
      const std::vector<std::int32_t> got = out.download();
      const std::int32_t want = cpu.sample(host, history);
      if (same_token) CHECK(got[0] == want);
      history.push_back(got[0]);  // the GPU's ring holds what it chose
      return got[1];
    };
    const std::size_t bad = vocab / 3;
    for (const float value : {std::nanf(""), -INFINITY, INFINITY}) {
      CAPTURE(value);
      CHECK(step(source.next(), true) == -1);  // finite logits: nothing to report
      std::vector<float> spoiled = source.next();
      spoiled[bad] = value;
      CHECK(step(spoiled, !(value > 0)) == static_cast<std::int32_t>(bad));
      CHECK(step(source.next(), true) == -1);  // the report does not outlive its step
    }
  }
}
