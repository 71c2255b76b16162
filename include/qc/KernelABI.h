//===- KernelABI.h - The contract between compiler and runtime --*- C++ -*-===//
//
// Generated kernels are found by key in a program's kernel table and called
// through MLIR's C interface: each memref argument is a pointer to a rank-1
// descriptor, then index arguments as int64_t. The keys and argument lists
// live here, once. The compiler builds its function types from each
// kernel's `args`; the runtime calls through `Fn`, derived from the same
// list. Plain C++: no MLIR, no runtime.
//
//===----------------------------------------------------------------------===//
#ifndef QC_KERNELABI_H
#define QC_KERNELABI_H

#include <cstdint>
#include <string>

namespace qc::abi {

/// A rank-1 memref descriptor as MLIR's C interface passes it.
template <typename T> struct MemRef {
  T *allocated, *aligned;
  int64_t offset, size, stride;
};
template <typename T> MemRef<T> view(T *p, int64_t n) { return {p, p, 0, n, 1}; }

/// What each argument is: its memref element (const when the kernel only
/// reads it) or an index. Cache is a KV cache of the compiled element type.
enum class Arg { Bytes, F32In, F32, I8In, I8, I32In, I32, Cache, Index };

template <Arg A> struct ArgType;
template <> struct ArgType<Arg::Bytes> { using type = MemRef<const uint8_t> *; };
template <> struct ArgType<Arg::F32In> { using type = MemRef<const float> *; };
template <> struct ArgType<Arg::F32> { using type = MemRef<float> *; };
template <> struct ArgType<Arg::I8In> { using type = MemRef<const int8_t> *; };
template <> struct ArgType<Arg::I8> { using type = MemRef<int8_t> *; };
template <> struct ArgType<Arg::I32In> { using type = MemRef<const int32_t> *; };
template <> struct ArgType<Arg::I32> { using type = MemRef<int32_t> *; };
template <> struct ArgType<Arg::Cache> { using type = MemRef<void> *; };
template <> struct ArgType<Arg::Index> { using type = int64_t; };

template <Arg... A> struct Kernel {
  static constexpr Arg args[] = {A...};
  static constexpr int count = sizeof...(A);
  using Fn = void (*)(typename ArgType<A>::type...);
};

// --- Products: y[t, r] = sum_k x[t, k] * w[r, k] for rows r0..r1.

/// "<format>:<rows>x<cols>" (w, x, y, T, r0, r1), f32 activations.
using LinearF32 = Kernel<Arg::Bytes, Arg::F32In, Arg::F32, Arg::Index, Arg::Index,
                         Arg::Index>;
/// The same key plus q8Suffix (w, codes, scales, sums, y, T, r0, r1): int8
/// activations from the quantize kernel of the same block.
using LinearQ8 = Kernel<Arg::Bytes, Arg::I8In, Arg::F32In, Arg::I32In, Arg::F32,
                        Arg::Index, Arg::Index, Arg::Index>;
/// quantizeKey(block, K) (x, codes, scales, sums, t0, t1): rows t0..t1-1 of
/// x as int8 codes per block (zero padded), a scale per block and the sums
/// of every 16 codes.
using QuantizeQ8 = Kernel<Arg::F32In, Arg::I8, Arg::F32, Arg::I32, Arg::Index,
                          Arg::Index>;

inline std::string linearKey(const std::string &format, int64_t rows, int64_t cols) {
  return format + ":" + std::to_string(rows) + "x" + std::to_string(cols);
}
/// Activations quantized per 32 ("@q8") or per 256 ("@q8k", llama.cpp's
/// Q8_K granularity).
inline std::string q8Suffix(int64_t block) { return block == 256 ? "@q8k" : "@q8"; }
inline std::string quantizeKey(int64_t block, int64_t K) {
  return (block == 256 ? "quantize_q8k:" : "quantize_q8:") + std::to_string(K);
}

// --- Graph kernels.

/// "rms_norm:<D>" (x, w, y, T).
using RmsNorm = Kernel<Arg::F32, Arg::F32, Arg::F32, Arg::Index>;
/// "rope_table:<hd>" (rot, pos, T): cos, sin of every position and pair.
using RopeTable = Kernel<Arg::F32, Arg::Index, Arg::Index>;
/// "rope:<W>:<hd>[:neox]" (v, rot, T): rotates every head of each row.
using Rope = Kernel<Arg::F32, Arg::F32, Arg::Index>;
/// "kv_store:<KV>:<type>" (k, v, keys, values, pos, T).
using KVStore = Kernel<Arg::F32, Arg::F32, Arg::Cache, Arg::Cache, Arg::Index,
                       Arg::Index>;
/// "attention:<H>:<KVH>:<hd>:<type>" (q, keys, values, out, scores, pos,
/// first, last): jobs first..last-1, job = t * H + h.
using Attention = Kernel<Arg::F32, Arg::Cache, Arg::Cache, Arg::F32, Arg::F32,
                         Arg::Index, Arg::Index, Arg::Index>;
/// "swiglu" and "add" (out, in): out = f(out, in) elementwise.
using Elementwise = Kernel<Arg::F32, Arg::F32>;

inline std::string rmsNormKey(int64_t D) { return "rms_norm:" + std::to_string(D); }
inline std::string ropeTableKey(int64_t hd) { return "rope_table:" + std::to_string(hd); }
inline std::string ropeKey(int64_t W, int64_t hd, bool neox) {
  return "rope:" + std::to_string(W) + ":" + std::to_string(hd) + (neox ? ":neox" : "");
}
/// KV cache element types: "f32", "f16" or "q8" (int8 codes, then an f32
/// scale per KV head, per row).
inline std::string kvStoreKey(int64_t KV, const std::string &type) {
  return "kv_store:" + std::to_string(KV) + ":" + type;
}
inline std::string attentionKey(int64_t H, int64_t KVH, int64_t hd,
                                const std::string &type) {
  return "attention:" + std::to_string(H) + ":" + std::to_string(KVH) + ":" +
         std::to_string(hd) + ":" + type;
}
inline const char *swigluKey() { return "swiglu"; }
inline const char *addKey() { return "add"; }

} // namespace qc::abi

#endif // QC_KERNELABI_H
