// kernels::Sampler: the sampling chain of runtime/sampling_params.hpp on the
// device, choosing exactly the token cpu::Sampler chooses for the same logits,
// recent tokens, seed and step (shared arithmetic; double-precision weights).
// One sample() enqueues a fixed sequence of kernels and CUB calls, all on
// buffers allocated at construction: no host synchronisation and no
// host-side decision that depends on data, so it can be captured in a CUDA
// graph and replayed. The device keeps the step counter (the draw of step n is
// sampling_uniform(seed, n)) and the ring of recent tokens for the penalties;
// only the chosen id is written, and on request whether a logit was NaN or
// infinite: the chain's first read of the logits (sanitize, the first
// prefilter round or the argmax's load) notes one such id as it goes, so the
// check costs no pass of its own.
//
// Paths (chosen at construction, see select_sampling_path):
//   greedy       temperature 0: cub::DeviceReduce::ArgMax (after penalties).
//   block_top_k  1 <= top_k <= max_prefilter_k, or a vocabulary one block
//                holds: rounds of block-wide radix sorts (cub::BlockRadixSort)
//                each keep the top k of every 1024 logits, until one block
//                holds <= 1024 candidates; that block sorts them and runs
//                top-p, min-p, temperature and the draw.
//                Bytes: the logits once (4 B/token) plus ~8 B per candidate.
//   device_sort  top_k 0 or > 256: cub::DeviceRadixSort of all (logit, id)
//                pairs, two cub::DeviceScan passes for top-p and the draw.
// Bound: latency, never DRAM bandwidth (0.5 MB of logits). Measured on an
// H100, vocab 128256, graph replay: block_top_k 24.5 µs (default params;
// +4 µs with penalties), greedy 7.8 µs, device_sort 83 µs; the block sorts
// (~6 µs a round, ~11 µs the final block) are what costs.
//
// Host code compiled by g++ may include this header: it sees the class only.
// nvcc also sees the block-level building blocks (state, sources, the
// prefilter round and the final block); cuda/kernels/sampling.cu holds the launches
// and the device_sort/greedy kernels.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <cuda_runtime_api.h>

#if defined(__CUDACC__)
#include <climits>

#include <cub/block/block_radix_sort.cuh>
#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cuda/functional>
#endif

#include "pagoda/core/cuda_raii.hpp"
#include "pagoda/runtime/sampling_params.hpp"

namespace pagoda::kernels {

// A block's launch shape: threads, and items each thread holds.
struct BlockShape {
  int threads;
  int items;
  [[nodiscard]] constexpr int capacity() const { return threads * items; }
  friend constexpr bool operator==(const BlockShape&, const BlockShape&) = default;
};
// The shapes cuda/kernels/sampling.cu instantiates: a policy names one of each list.
inline constexpr std::array<BlockShape, 4> sampling_prefilter_shapes{{{256, 8}, {512, 8}, {128, 8}, {256, 4}}};
inline constexpr std::array<BlockShape, 3> sampling_final_shapes{{{512, 8}, {512, 4}, {256, 4}}};

// How block_top_k splits the work, as values.
struct SamplingPolicy {
  BlockShape prefilter;    // one block of a round keeps the top k of prefilter.capacity() logits
  BlockShape final_block;  // the last block sorts up to final_block.capacity() candidates
  int max_prefilter_k;     // larger top_k: device_sort. <= prefilter.capacity() / 4, so rounds shrink >= 4x
  friend constexpr bool operator==(const SamplingPolicy&, const SamplingPolicy&) = default;
};
// Chosen by the policy timing that is now pagoda-kernel-bench's sampling section (H100, vocab 128256,
// graph replay, default params / +penalties / top_k 256, in µs):
//   prefilter 256x8, final 512x8: 28.8 / 33.4 / 37.5
//   prefilter 512x8, final 512x4: 29.6 / 33.7 / 43.6
//   prefilter 256x8, final 256x4: 29.4 / 33.2 / 37.7
//   prefilter 128x8, final 256x4: 25.4 / 29.6 / 38.9
//   prefilter 256x4, final 256x4: 24.5 / 28.5 / 37.2   <- the default
// A final block alone (vocab = its capacity) costs 21.0 µs at 512x8, 14.8 at
// 512x4, 11.3 at 256x4: the block radix sort dominates, so small sorts win.
inline constexpr SamplingPolicy sampling_policy{{256, 4}, {256, 4}, 256};

enum class SamplingPath { greedy, block_top_k, device_sort };

[[nodiscard]] constexpr SamplingPath select_sampling_path(std::size_t vocab_size, const runtime::SamplingParams& p,
                                                          const SamplingPolicy& policy = sampling_policy) {
  if (p.greedy()) return SamplingPath::greedy;
  // A vocabulary one block can sort takes block_top_k with any top_k.
  if (vocab_size <= static_cast<std::size_t>(policy.final_block.capacity())) return SamplingPath::block_top_k;
  if (p.top_k > 0 && p.top_k <= policy.max_prefilter_k) return SamplingPath::block_top_k;
  return SamplingPath::device_sort;
}

[[nodiscard]] constexpr const char* sampling_path_name(SamplingPath path) {
  switch (path) {
    case SamplingPath::greedy: return "greedy";
    case SamplingPath::block_top_k: return "block_top_k";
    case SamplingPath::device_sort: return "device_sort";
  }
  return "?";
}

namespace sampling {
// Where a step's results go (device): the chosen id and, when not null, the
// id of a non-finite logit or -1.
struct TokenOut {
  std::int32_t* token;
  std::int32_t* non_finite;
};
}  // namespace sampling

class Sampler {
public:
  // Validates `params` and `policy` (pagoda::Error), allocates every buffer
  // and sizes CUB's temporary storage; initialises on `stream` and waits for
  // it. reset(), set_step() and step() later use the same stream.
  Sampler(std::size_t vocab_size, const runtime::SamplingParams& params, cudaStream_t stream,
          const SamplingPolicy& policy = sampling_policy);

  // Chooses a token from `logits` (device, vocab_size floats), writes it to
  // `out_token` (device), appends it to the penalty ring and advances the
  // step, all on `stream`, asynchronously. Graph-capturable. When
  // `out_non_finite` (device) is given, also writes there -1 if every logit
  // was finite, else the id of one that was NaN or +-inf (the token is chosen
  // as cpu::Sampler chooses it all the same, a NaN counting as -inf): the
  // engine stops generation on it.
  void sample(const float* logits, std::int32_t* out_token, cudaStream_t stream,
              std::int32_t* out_non_finite = nullptr);

  // Host call, outside any graph: the penalty ring becomes the last
  // penalty_last_n tokens of `history` (e.g. the prompt). Leaves the step.
  void reset(std::span<const std::int32_t> history);
  // Host calls: the device step counter (reading it waits for the stream).
  [[nodiscard]] std::uint64_t step() const;
  void set_step(std::uint64_t step);

  [[nodiscard]] SamplingPath path() const { return path_; }
  [[nodiscard]] const runtime::SamplingParams& params() const { return params_; }
  [[nodiscard]] const SamplingPolicy& policy() const { return policy_; }
  [[nodiscard]] std::size_t vocab_size() const { return vocab_size_; }
  [[nodiscard]] std::size_t device_bytes() const;

private:
  const float* enqueue_working_logits(const float* logits, bool copy, cudaStream_t stream) const;
  void enqueue_greedy(const float* logits, sampling::TokenOut out, cudaStream_t stream) const;
  void enqueue_block_top_k(const float* logits, sampling::TokenOut out, cudaStream_t stream) const;
  void enqueue_device_sort(const float* logits, sampling::TokenOut out, cudaStream_t stream) const;

  std::size_t vocab_size_ = 0;
  runtime::SamplingParams params_;
  SamplingPolicy policy_ = sampling_policy;
  cudaStream_t stream_ = nullptr;
  SamplingPath path_ = SamplingPath::greedy;
  int top_k_ = 0;                   // effective: 1..vocab_size
  int ring_capacity_ = 0;           // penalty_last_n when penalties are active, else 0
  std::vector<int> round_inputs_;   // block_top_k: input count of each prefilter round
  int final_count_ = 0;             // block_top_k: candidates the last block sorts

  pagoda::DeviceBuffer state_;        // step counter, ring cursor, this step's non-finite logit
  pagoda::DeviceBuffer ring_;         // (ring_capacity) recent ids
  pagoda::DeviceBuffer working_;      // (vocab) sanitized, penalised logits
  pagoda::DeviceBuffer keys_[2];      // block_top_k: candidate logits, ping-pong;
  pagoda::DeviceBuffer ids_[2];       //   device_sort: [0] sorted, [1] iota ids
  pagoda::DeviceBuffer weights_;      // device_sort: (vocab) doubles
  pagoda::DeviceBuffer cumulative_;   // device_sort: (vocab) doubles
  pagoda::DeviceBuffer first_cut_;    // device_sort: first rejected rank
  pagoda::DeviceBuffer argmax_;       // greedy: max value and int64 index
  pagoda::DeviceBuffer cub_temp_;
  std::size_t cub_temp_bytes_ = 0;
};

}  // namespace pagoda::kernels

#if defined(__CUDACC__)
// ---- Device building blocks (nvcc only); the launches live in cuda/kernels/sampling.cu.

namespace pagoda::kernels::sampling {

// The device's record of the sampler; reset() and set_step() write parts of it.
struct SamplerState {
  unsigned long long step;  // the draw of this call is sampling_uniform(seed, step)
  int ring_count;           // valid ids in ring[0, ring_count)
  int ring_next;            // where the next id goes
  int non_finite;           // this step: 1 + the id of a logit found NaN or +-inf; 0: none (yet)
};

// The first read of a step's logits: sanitized (NaN -> -inf), and a
// non-finite one noted in `state` (any one of them; racing stores all write
// a valid id). `state` is null where the logits were already read once.
__device__ __forceinline__ float read_logit(const float* logits, int i, SamplerState* state) {
  const float logit = logits[i];
  if (state != nullptr && !isfinite(logit)) state->non_finite = i + 1;
  return runtime::sanitize_logit(logit);
}

struct RingArgs {
  SamplerState* state;
  std::int32_t* ring;  // (capacity)
  int capacity;        // 0: penalties off, nothing recorded
};

// The chain's parameters as kernel arguments.
struct ChainArgs {
  int top_k;  // effective: 1..candidates
  bool use_top_p;
  bool use_min_p;
  double top_p;
  float min_p_offset;  // log(min_p), see runtime::min_p_log_offset
  double temperature;
  unsigned long long seed;
};

// Ends a step: writes the id (and the non-finite report, which starts the
// next step cleared), records it for the penalties, advances the step.
__device__ __forceinline__ void commit_token(std::int32_t token, TokenOut out, const RingArgs& ring) {
  *out.token = token;
  SamplerState& state = *ring.state;
  if (out.non_finite != nullptr) *out.non_finite = state.non_finite - 1;
  state.non_finite = 0;
  if (ring.capacity > 0) {
    ring.ring[state.ring_next] = token;
    state.ring_next = state.ring_next + 1 == ring.capacity ? 0 : state.ring_next + 1;
    state.ring_count = min(state.ring_count + 1, ring.capacity);
  }
  ++state.step;
}

// Where a sort's (logit, id) pairs come from: the logits themselves (first
// pass, id = index) or the candidates a previous pass kept.
struct LogitSource {
  const float* logits;
  SamplerState* first_read;  // the step's state where this is the first read of the logits, else null
  __device__ void load(int i, float& key, std::int32_t& id) const {
    key = read_logit(logits, i, first_read);
    id = i;
  }
};
struct CandidateSource {
  const float* keys;
  const std::int32_t* ids;
  __device__ void load(int i, float& key, std::int32_t& id) const {
    key = keys[i];
    id = ids[i];
  }
};

// A blocked tile from `base`: thread t holds positions t*Items .. t*Items+Items-1,
// so the stable block sort keeps position (hence id) order among equal keys.
// Past n: -inf with the largest id, sorting after every real candidate.
template <int Items, class Source>
__device__ void load_blocked(const Source& source, int base, int n, float (&keys)[Items], std::int32_t (&ids)[Items]) {
#pragma unroll
  for (int j = 0; j < Items; ++j) {
    const int i = base + static_cast<int>(threadIdx.x) * Items + j;
    if (i < n) {
      source.load(i, keys[j], ids[j]);
    } else {
      keys[j] = -INFINITY;
      ids[j] = INT_MAX;
    }
  }
}

// One prefilter round: block b sorts its Threads*Items pairs and keeps the
// top k, sorted, at out[b*k, b*k + k).
template <int Threads, int Items, class Source>
__global__ void __launch_bounds__(Threads)
    block_top_k_kernel(Source source, int n, int k, float* __restrict__ out_keys, std::int32_t* __restrict__ out_ids) {
  using Sort = cub::BlockRadixSort<float, Threads, Items, std::int32_t>;
  __shared__ typename Sort::TempStorage storage;
  float keys[Items];
  std::int32_t ids[Items];
  load_blocked(source, static_cast<int>(blockIdx.x) * Threads * Items, n, keys, ids);
  Sort(storage).SortDescending(keys, ids);
#pragma unroll
  for (int j = 0; j < Items; ++j) {
    const int rank = static_cast<int>(threadIdx.x) * Items + j;
    if (rank < k) {
      out_keys[blockIdx.x * k + rank] = keys[j];
      out_ids[blockIdx.x * k + rank] = ids[j];
    }
  }
}

// The rest of the chain in one block over n <= Threads*Items candidates:
// sort, top-k, top-p, min-p, temperature, draw, commit.
template <int Threads, int Items, class Source>
__global__ void __launch_bounds__(Threads)
    final_block_kernel(Source source, int n, ChainArgs chain, RingArgs ring, TokenOut out) {
  using Sort = cub::BlockRadixSort<float, Threads, Items, std::int32_t>;
  using Scan = cub::BlockScan<double, Threads>;
  using Reduce = cub::BlockReduce<int, Threads>;
  __shared__ union {
    typename Sort::TempStorage sort;
    typename Scan::TempStorage scan;
    typename Reduce::TempStorage reduce;
  } storage;
  __shared__ float top_logit;
  __shared__ double uniform;
  __shared__ int kept_count;
  __shared__ int chosen_rank;

  float keys[Items];
  std::int32_t ids[Items];
  load_blocked(source, 0, n, keys, ids);
  Sort(storage.sort).SortDescending(keys, ids);
  if (threadIdx.x == 0) {
    top_logit = keys[0];
    uniform = runtime::sampling_uniform(chain.seed, ring.state->step);
  }
  __syncthreads();
  const float top = top_logit;
  const int first_rank = static_cast<int>(threadIdx.x) * Items;

  // Top-p: the mass ranked above each candidate, over the top-k set.
  double above[Items] = {};
  double total = 0;
  if (chain.use_top_p) {
    double mass[Items];
#pragma unroll
    for (int j = 0; j < Items; ++j) mass[j] = first_rank + j < chain.top_k ? runtime::top_p_weight(keys[j], top) : 0.0;
    Scan(storage.scan).ExclusiveSum(mass, above, total);
    __syncthreads();
  }
  // The kept prefix ends at the first rank any filter rejects.
  const double top_p_mass = chain.top_p * total;
  const float min_p_threshold = top + chain.min_p_offset;
  int rejected = INT_MAX;
#pragma unroll
  for (int j = 0; j < Items; ++j) {
    const int rank = first_rank + j;
    const bool kept = rank < chain.top_k && (rank == 0 || ((!chain.use_top_p || above[j] < top_p_mass) &&
                                                           (!chain.use_min_p || keys[j] >= min_p_threshold)));
    if (!kept && rejected == INT_MAX) rejected = rank;
  }
  rejected = Reduce(storage.reduce).Reduce(rejected, cuda::minimum<>{});
  if (threadIdx.x == 0) kept_count = min(rejected, chain.top_k);
  __syncthreads();
  const int keep = kept_count;

  // Temperature and the draw: the first kept rank whose cumulative weight exceeds u * total.
  double weight[Items];
#pragma unroll
  for (int j = 0; j < Items; ++j)
    weight[j] = first_rank + j < keep ? runtime::temperature_weight(keys[j], top, chain.temperature) : 0.0;
  double cumulative[Items];
  double total_weight = 0;
  Scan(storage.scan).InclusiveSum(weight, cumulative, total_weight);
  __syncthreads();
  const double target = uniform * total_weight;
  int over = INT_MAX;
#pragma unroll
  for (int j = 0; j < Items; ++j)
    if (over == INT_MAX && first_rank + j < keep && cumulative[j] > target) over = first_rank + j;
  over = Reduce(storage.reduce).Reduce(over, cuda::minimum<>{});
  if (threadIdx.x == 0) chosen_rank = over != INT_MAX ? over : keep - 1;
  __syncthreads();
#pragma unroll
  for (int j = 0; j < Items; ++j)
    if (first_rank + j == chosen_rank) commit_token(ids[j], out, ring);
}

}  // namespace pagoda::kernels::sampling
#endif  // __CUDACC__
