// PAGODA_HD marks functions usable from host and device code. Headers that
// carry it (the quant formats, small math helpers) compile with g++ alone for
// the CPU build and the fuzzer, and with nvcc for the kernels.
#pragma once

#if defined(__CUDACC__)
#define PAGODA_HD __host__ __device__
#define PAGODA_HD_INLINE __host__ __device__ __forceinline__
#else
#define PAGODA_HD
#define PAGODA_HD_INLINE inline
#endif
