// kernels::Sampler (see pagoda/kernels/sampling.cuh): the device half of the
// sampling chain. Every candidate set is sorted by (logit descending, id
// ascending), as cpu::Sampler sorts it: CUB's block and device radix sorts are
// stable and each load keeps id order, so ties resolve the same way.
#include "pagoda/kernels/sampling.cuh"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

#include <cub/cub.cuh>
#include <cuda/functional>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>

#include "pagoda/kernels/cuda_check.hpp"

namespace pagoda::kernels {

namespace {

using runtime::SamplingParams;
using namespace sampling;

ChainArgs chain_args(const SamplingParams& p, int top_k) {
  const float min_p_offset = p.min_p_active() ? runtime::min_p_log_offset(p.min_p) : 0.0f;
  return {top_k, p.top_p_active(), p.min_p_active(), p.top_p, min_p_offset, p.temperature, p.seed};
}

__global__ void sanitize_kernel(const float* __restrict__ logits, float* __restrict__ working, int n,
                                SamplerState* state) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) working[i] = read_logit(logits, i, state);
}

// Step 1 in one block: each distinct id of the ring is penalised once, by the
// thread holding its first occurrence (O(window^2) compares in shared memory:
// 64 x 64 for the default window).
template <int Threads>
__global__ void __launch_bounds__(Threads)
    penalize_kernel(float* working, int vocab, const std::int32_t* ring, const SamplerState* state, float repeat,
                    float frequency, float presence) {
  __shared__ std::int32_t recent[runtime::max_penalty_last_n];
  const int count = state->ring_count;
  for (int s = static_cast<int>(threadIdx.x); s < count; s += Threads) recent[s] = ring[s];
  __syncthreads();
  for (int s = static_cast<int>(threadIdx.x); s < count; s += Threads) {
    const std::int32_t token = recent[s];
    if (token < 0 || token >= vocab) continue;
    int seen = 0;
    bool first = true;
    for (int r = 0; r < count; ++r) {
      if (recent[r] != token) continue;
      ++seen;
      first = first && r >= s;
    }
    if (first) working[token] = runtime::penalized_logit(working[token], seen, repeat, frequency, presence);
  }
}

// device_sort: iota ids for the radix sort's values (once, at construction).
__global__ void iota_kernel(std::int32_t* ids, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) ids[i] = i;
}

// device_sort, top-p: each sorted candidate's weight at temperature 1, 0 past top-k.
__global__ void top_p_mass_kernel(const float* __restrict__ sorted, int n, int top_k, double* __restrict__ mass) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) mass[i] = i < top_k ? runtime::top_p_weight(sorted[i], sorted[0]) : 0.0;
}

// device_sort: the filters per rank. `mass_through` is the inclusive scan of
// top_p_mass_kernel's output. Writes each kept rank's temperature weight and
// atomically the first rejected rank (only ranks right after a kept one try).
__global__ void keep_kernel(const float* __restrict__ sorted, int n, ChainArgs chain, const double* mass_through,
                            double* __restrict__ weight, unsigned* first_rejected) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  const float top = sorted[0];
  const auto kept = [&](int rank) {
    return rank < chain.top_k &&
           (rank == 0 || ((!chain.use_top_p || mass_through[rank - 1] < chain.top_p * mass_through[n - 1]) &&
                          (!chain.use_min_p || sorted[rank] >= top + chain.min_p_offset)));
  };
  const bool keep = kept(i);
  weight[i] = keep ? runtime::temperature_weight(sorted[i], top, chain.temperature) : 0.0;
  if (!keep && kept(i - 1)) atomicMin(first_rejected, static_cast<unsigned>(i));  // rank 0 is always kept
}

// device_sort, one thread: binary search for the first kept rank whose
// cumulative weight exceeds u * total (cumulative never decreases).
__global__ void draw_kernel(const double* cumulative, const unsigned* first_rejected, int n,
                            const std::int32_t* sorted_ids, ChainArgs chain, RingArgs ring, TokenOut out) {
  const int keep = static_cast<int>(min(*first_rejected, static_cast<unsigned>(n)));
  const double target = runtime::sampling_uniform(chain.seed, ring.state->step) * cumulative[keep - 1];
  int lo = 0;
  int hi = keep - 1;  // the last kept rank is also the answer when rounding leaves none above target
  while (lo < hi) {
    const int mid = lo + (hi - lo) / 2;
    if (cumulative[mid] > target) hi = mid;
    else lo = mid + 1;
  }
  commit_token(sorted_ids[lo], out, ring);
}

// greedy: the argmax's index becomes the token.
__global__ void commit_argmax_kernel(const cuda::std::int64_t* index, RingArgs ring, TokenOut out) {
  commit_token(static_cast<std::int32_t>(*index), out, ring);
}

// The argmax's input: logit i sanitized, a non-finite one noted where this
// is the step's first read of them (state not null).
struct SanitizedLogit {
  const float* logits;
  SamplerState* state;
  __host__ __device__ float operator()(int i) const {
#if defined(__CUDA_ARCH__)
    return read_logit(logits, i, state);
#else
    return logits[i];  // never called on the host; the iterator type needs a host-callable functor
#endif
  }
};
using SanitizedLogits = thrust::transform_iterator<SanitizedLogit, thrust::counting_iterator<int>>;
SanitizedLogits sanitized_logits(const float* logits, SamplerState* state) {
  return SanitizedLogits(thrust::counting_iterator<int>(0), SanitizedLogit{logits, state});
}

constexpr int elementwise_threads = 256;
constexpr int penalty_threads = 1024;
unsigned blocks_for(int n, int threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

template <class T>
T* as(const pagoda::DeviceBuffer& buffer) {
  return reinterpret_cast<T*>(buffer.data());
}
template <class T>
pagoda::DeviceBuffer device_array(std::size_t count, const char* what) {
  return pagoda::DeviceBuffer(sizeof(T) * count, what);
}
RingArgs ring_args(const pagoda::DeviceBuffer& state, const pagoda::DeviceBuffer& ring, int capacity) {
  return {as<SamplerState>(state), as<std::int32_t>(ring), capacity};
}

// Calls f(integral_constant threads, integral_constant items) for the entry
// of `Shapes` equal to `shape`; false when none is.
template <const auto& Shapes, class F, std::size_t... I>
bool visit_shape(BlockShape shape, F&& f, std::index_sequence<I...>) {
  const auto visit_one = [&](auto i) {
    constexpr BlockShape listed = Shapes[decltype(i)::value];
    if (shape != listed) return false;
    f(std::integral_constant<int, listed.threads>{}, std::integral_constant<int, listed.items>{});
    return true;
  };
  return (visit_one(std::integral_constant<std::size_t, I>{}) || ...);
}
template <const auto& Shapes, class F>
bool visit_shape(BlockShape shape, F&& f) {
  return visit_shape<Shapes>(shape, f, std::make_index_sequence<Shapes.size()>{});
}

}  // namespace

Sampler::Sampler(std::size_t vocab_size, const SamplingParams& params, cudaStream_t stream,
                 const SamplingPolicy& policy)
    : vocab_size_(vocab_size), params_(params), policy_(policy), stream_(stream) {
  params_.validate();
  require(vocab_size > 0 && vocab_size <= (std::size_t{1} << 30), "kernels::Sampler", "0 < vocab_size <= 2^30");
  const auto listed = [](auto, auto) {};
  require(visit_shape<sampling_prefilter_shapes>(policy.prefilter, listed) &&
              visit_shape<sampling_final_shapes>(policy.final_block, listed),
          "kernels::Sampler", "block shapes listed in sampling_prefilter_shapes and sampling_final_shapes");
  require(policy.max_prefilter_k > 0 && policy.max_prefilter_k <= policy.prefilter.capacity() / 4 &&
              policy.max_prefilter_k <= policy.final_block.capacity(),
          "kernels::Sampler", "0 < max_prefilter_k <= min(prefilter capacity / 4, final capacity)");
  const int vocab = static_cast<int>(vocab_size);
  path_ = select_sampling_path(vocab_size, params_, policy_);
  top_k_ = params_.top_k > 0 ? std::min(params_.top_k, vocab) : vocab;
  ring_capacity_ = params_.penalties_active() ? params_.penalty_last_n : 0;
  state_ = device_array<SamplerState>(1, "sampler state");
  ring_ = device_array<std::int32_t>(static_cast<std::size_t>(ring_capacity_), "sampler ring");
  if (ring_capacity_ > 0 || path_ == SamplingPath::device_sort)
    working_ = device_array<float>(vocab_size, "sampler working logits");

  if (path_ == SamplingPath::greedy) {
    argmax_ = device_array<cuda::std::int64_t>(2, "sampler argmax");  // [0]: the max (a float), [1]: its index
    check_cuda(cub::DeviceReduce::ArgMax(nullptr, cub_temp_bytes_, sanitized_logits(nullptr, nullptr),
                                         as<float>(argmax_), as<cuda::std::int64_t>(argmax_) + 1,
                                         static_cast<cuda::std::int64_t>(vocab), stream),
               "sampler: ArgMax temporary storage");
  } else if (path_ == SamplingPath::block_top_k) {
    const int chunk = policy_.prefilter.capacity();
    int n = vocab;
    int largest = 0;
    while (n > policy_.final_block.capacity()) {  // >= 4x smaller a round
      round_inputs_.push_back(n);
      n = static_cast<int>(blocks_for(n, chunk)) * top_k_;
      largest = std::max(largest, n);
    }
    final_count_ = n;
    for (int b = 0; b < 2 && largest > 0; ++b) {
      keys_[b] = device_array<float>(static_cast<std::size_t>(largest), "sampler candidates");
      ids_[b] = device_array<std::int32_t>(static_cast<std::size_t>(largest), "sampler candidates");
    }
  } else {
    keys_[0] = device_array<float>(vocab_size, "sampler sorted logits");
    ids_[0] = device_array<std::int32_t>(vocab_size, "sampler sorted ids");
    ids_[1] = device_array<std::int32_t>(vocab_size, "sampler iota ids");
    weights_ = device_array<double>(vocab_size, "sampler weights");
    cumulative_ = device_array<double>(vocab_size, "sampler cumulative weights");
    first_cut_ = device_array<unsigned>(1, "sampler cut");
    std::size_t sort_bytes = 0;
    std::size_t scan_bytes = 0;
    check_cuda(cub::DeviceRadixSort::SortPairsDescending(nullptr, sort_bytes, as<const float>(working_),
                                                         as<float>(keys_[0]), as<const std::int32_t>(ids_[1]),
                                                         as<std::int32_t>(ids_[0]), vocab, 0, 32, stream),
               "sampler: radix sort temporary storage");
    check_cuda(cub::DeviceScan::InclusiveSum(nullptr, scan_bytes, as<const double>(weights_), as<double>(cumulative_),
                                             vocab, stream),
               "sampler: scan temporary storage");
    cub_temp_bytes_ = std::max(sort_bytes, scan_bytes);
    iota_kernel<<<blocks_for(vocab, elementwise_threads), elementwise_threads, 0, stream>>>(as<std::int32_t>(ids_[1]),
                                                                                           vocab);
    check_launch("sampler: iota_kernel");
  }
  if (cub_temp_bytes_ > 0) cub_temp_ = pagoda::DeviceBuffer(cub_temp_bytes_, "sampler CUB temporary storage");
  check_cuda(cudaMemsetAsync(state_.data(), 0, sizeof(SamplerState), stream), "sampler: clear state");
  check_cuda(cudaStreamSynchronize(stream), "sampler: initialisation");
}

void Sampler::sample(const float* logits, std::int32_t* out_token, cudaStream_t stream, std::int32_t* out_non_finite) {
  require(state_.data() != nullptr, "kernels::Sampler::sample", "a sampler that was not moved from");
  const TokenOut out{out_token, out_non_finite};
  switch (path_) {
    case SamplingPath::greedy: return enqueue_greedy(logits, out, stream);
    case SamplingPath::block_top_k: return enqueue_block_top_k(logits, out, stream);
    case SamplingPath::device_sort: return enqueue_device_sort(logits, out, stream);
  }
}

// The logits the chain reads: working_ = sanitize(logits), penalised, when
// penalties are on or `copy` asks for it (that copy is then the step's first
// read, noting a non-finite logit); else `logits` itself.
const float* Sampler::enqueue_working_logits(const float* logits, bool copy, cudaStream_t stream) const {
  if (ring_capacity_ == 0 && !copy) return logits;
  const int vocab = static_cast<int>(vocab_size_);
  sanitize_kernel<<<blocks_for(vocab, elementwise_threads), elementwise_threads, 0, stream>>>(
      logits, as<float>(working_), vocab, as<SamplerState>(state_));
  check_launch("sampler: sanitize_kernel");
  if (ring_capacity_ > 0) {
    constexpr int threads = penalty_threads;
    penalize_kernel<threads><<<1, threads, 0, stream>>>(as<float>(working_), vocab, as<const std::int32_t>(ring_),
                                                        as<const SamplerState>(state_), params_.repeat_penalty,
                                                        params_.frequency_penalty, params_.presence_penalty);
    check_launch("sampler: penalize_kernel");
  }
  return as<const float>(working_);
}

void Sampler::enqueue_greedy(const float* logits, TokenOut out, cudaStream_t stream) const {
  const float* working = enqueue_working_logits(logits, false, stream);
  SamplerState* first_read = working == logits ? as<SamplerState>(state_) : nullptr;
  std::size_t bytes = cub_temp_bytes_;
  check_cuda(cub::DeviceReduce::ArgMax(cub_temp_.data(), bytes, sanitized_logits(working, first_read),
                                       as<float>(argmax_), as<cuda::std::int64_t>(argmax_) + 1,
                                       static_cast<cuda::std::int64_t>(vocab_size_), stream),
             "sampler: ArgMax");
  commit_argmax_kernel<<<1, 1, 0, stream>>>(as<const cuda::std::int64_t>(argmax_) + 1,
                                            ring_args(state_, ring_, ring_capacity_), out);
  check_launch("sampler: commit_argmax_kernel");
}

void Sampler::enqueue_block_top_k(const float* logits, TokenOut out, cudaStream_t stream) const {
  const float* working = enqueue_working_logits(logits, false, stream);
  const LogitSource first{working, working == logits ? as<SamplerState>(state_) : nullptr};
  int pong = 0;  // rounds ping-pong between keys_/ids_ [0] and [1]
  for (std::size_t r = 0; r < round_inputs_.size(); ++r, pong ^= 1) {
    const int n = round_inputs_[r];
    const CandidateSource previous{as<const float>(keys_[pong ^ 1]), as<const std::int32_t>(ids_[pong ^ 1])};
    float* keys = as<float>(keys_[pong]);
    std::int32_t* ids = as<std::int32_t>(ids_[pong]);
    visit_shape<sampling_prefilter_shapes>(policy_.prefilter, [&](auto threads, auto items) {
      constexpr int t = decltype(threads)::value;
      constexpr int i = decltype(items)::value;
      const unsigned blocks = blocks_for(n, t * i);
      if (r == 0) block_top_k_kernel<t, i><<<blocks, t, 0, stream>>>(first, n, top_k_, keys, ids);
      else block_top_k_kernel<t, i><<<blocks, t, 0, stream>>>(previous, n, top_k_, keys, ids);
    });
    check_launch("sampler: block_top_k_kernel");
  }
  const ChainArgs chain = chain_args(params_, top_k_);
  const RingArgs ring = ring_args(state_, ring_, ring_capacity_);
  const CandidateSource last{as<const float>(keys_[pong ^ 1]), as<const std::int32_t>(ids_[pong ^ 1])};
  visit_shape<sampling_final_shapes>(policy_.final_block, [&](auto threads, auto items) {
    constexpr int t = decltype(threads)::value;
    constexpr int i = decltype(items)::value;
    if (round_inputs_.empty()) final_block_kernel<t, i><<<1, t, 0, stream>>>(first, final_count_, chain, ring, out);
    else final_block_kernel<t, i><<<1, t, 0, stream>>>(last, final_count_, chain, ring, out);
  });
  check_launch("sampler: final_block_kernel");
}

void Sampler::enqueue_device_sort(const float* logits, TokenOut out, cudaStream_t stream) const {
  const int vocab = static_cast<int>(vocab_size_);
  std::size_t bytes = cub_temp_bytes_;
  check_cuda(cub::DeviceRadixSort::SortPairsDescending(cub_temp_.data(), bytes,
                                                       enqueue_working_logits(logits, true, stream),
                                                       as<float>(keys_[0]), as<const std::int32_t>(ids_[1]),
                                                       as<std::int32_t>(ids_[0]), vocab, 0, 32, stream),
             "sampler: SortPairsDescending");
  const float* sorted = as<const float>(keys_[0]);
  const ChainArgs chain = chain_args(params_, top_k_);
  const unsigned blocks = blocks_for(vocab, elementwise_threads);
  check_cuda(cudaMemsetAsync(first_cut_.data(), 0xFF, sizeof(unsigned), stream), "sampler: reset cut");
  if (chain.use_top_p) {
    top_p_mass_kernel<<<blocks, elementwise_threads, 0, stream>>>(sorted, vocab, top_k_, as<double>(weights_));
    check_launch("sampler: top_p_mass_kernel");
    bytes = cub_temp_bytes_;
    check_cuda(cub::DeviceScan::InclusiveSum(cub_temp_.data(), bytes, as<const double>(weights_),
                                             as<double>(cumulative_), vocab, stream),
               "sampler: top-p InclusiveSum");
  }
  keep_kernel<<<blocks, elementwise_threads, 0, stream>>>(sorted, vocab, chain, as<const double>(cumulative_),
                                                           as<double>(weights_), as<unsigned>(first_cut_));
  check_launch("sampler: keep_kernel");
  bytes = cub_temp_bytes_;
  check_cuda(cub::DeviceScan::InclusiveSum(cub_temp_.data(), bytes, as<const double>(weights_), as<double>(cumulative_),
                                           vocab, stream),
             "sampler: draw InclusiveSum");
  draw_kernel<<<1, 1, 0, stream>>>(as<const double>(cumulative_), as<const unsigned>(first_cut_), vocab,
                                   as<const std::int32_t>(ids_[0]), chain, ring_args(state_, ring_, ring_capacity_),
                                   out);
  check_launch("sampler: draw_kernel");
}

void Sampler::reset(std::span<const std::int32_t> history) {
  for (std::int32_t token : history)
    require(token >= 0 && static_cast<std::size_t>(token) < vocab_size_, "kernels::Sampler::reset",
            "every history id is inside the vocabulary");
  if (ring_capacity_ == 0) return;  // penalties off: nothing is remembered
  const std::span<const std::int32_t> tail = history.last(std::min(history.size(), std::size_t(ring_capacity_)));
  const int cursor[2] = {static_cast<int>(tail.size()), static_cast<int>(tail.size()) % ring_capacity_};
  if (!tail.empty())
    check_cuda(cudaMemcpyAsync(ring_.data(), tail.data(), tail.size_bytes(), cudaMemcpyHostToDevice, stream_),
               "sampler: reset ring");
  check_cuda(cudaMemcpyAsync(state_.data() + offsetof(SamplerState, ring_count), cursor, sizeof(cursor),
                             cudaMemcpyHostToDevice, stream_),
             "sampler: reset ring cursor");
  check_cuda(cudaStreamSynchronize(stream_), "sampler: reset");
}

std::uint64_t Sampler::step() const {
  unsigned long long step = 0;
  check_cuda(cudaMemcpyAsync(&step, state_.data() + offsetof(SamplerState, step), sizeof(step),
                             cudaMemcpyDeviceToHost, stream_),
             "sampler: read step");
  check_cuda(cudaStreamSynchronize(stream_), "sampler: read step");
  return step;
}

void Sampler::set_step(std::uint64_t step) {
  const unsigned long long value = step;
  check_cuda(cudaMemcpyAsync(state_.data() + offsetof(SamplerState, step), &value, sizeof(value),
                             cudaMemcpyHostToDevice, stream_),
             "sampler: set step");
  check_cuda(cudaStreamSynchronize(stream_), "sampler: set step");
}

std::size_t Sampler::device_bytes() const {
  std::size_t bytes = state_.size() + ring_.size() + working_.size() + weights_.size() + cumulative_.size() +
                      first_cut_.size() + argmax_.size() + cub_temp_.size();
  for (int b = 0; b < 2; ++b) bytes += keys_[b].size() + ids_[b].size();
  return bytes;
}

}  // namespace pagoda::kernels
