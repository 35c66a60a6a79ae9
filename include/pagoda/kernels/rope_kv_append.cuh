// What an epilogue that applies a step's RoPE and appends its keys and
// values to the KV cache needs to know of one launch of q, k and v's product:
// the decode GEMV's (RopeKvRows, rope_kv_rows.cuh) and the batched step's
// (few_streams::store_rope_kv, few_streams_epilogues.cuh), instead of a
// rope_kv_store launch after the product. Host and device.
#pragma once

#include <cstdint>

#include <cuda_fp16.h>

#include <pagoda/kernels/rope.cuh>

namespace pagoda::kernels {

// What a matrix of a q, k, v launch is to the epilogue.
enum class QkvRole : std::uint8_t { query, key, value };

// The epilogue's side of one launch. Token r's query rows are turned at
// positions[r] and stored in f32 to their target's y; its key rows turned,
// and its value rows as they are, stored in f16 to cache row cache_rows[r]
// (positions[r] where cache_rows is null) of k_cache / v_cache ((rows,
// kv_dim), kv_dim the key and value matrices' rows); the key and value
// targets' y are not written. One token: a sequence's decode step (the
// GEMV); several: the batched step (matmul_few_streams_rope_kv).
struct RopeKvAppend {
  QkvRole roles[3] = {QkvRole::query, QkvRole::key, QkvRole::value};  // of the launch's targets, in order
  RopeParams rope{};
  __half* k_cache = nullptr;
  __half* v_cache = nullptr;
  const std::int32_t* positions = nullptr;   // device, a token each
  const std::int32_t* cache_rows = nullptr;  // device, a token each, or null
};

}  // namespace pagoda::kernels
