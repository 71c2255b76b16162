//===- BlockLayout.h - How a kernel reads one block of a format -*- C++ -*-===//
//
// Plain C++ (no MLIR): the byte-level description of a format's blocks that
// the kernel generator turns into vector code. Every code is an unsigned
// field u of the block; the weight is d * (u - zero) (+ m when the format
// has a minimum).
//
//===----------------------------------------------------------------------===//
#ifndef QC_LIB_CONVERSION_QCTOCPU_BLOCKLAYOUT_H
#define QC_LIB_CONVERSION_QCTOCPU_BLOCKLAYOUT_H

#include "qc/Formats/Codec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qc::cpu {

struct BlockLayout {
  enum Kind {
    Float,  // plain F32/F16/BF16 rows, no padding
    Fields, // bit fields: ggml Q4_0/Q8_0, #qc.uniform
    Trits,  // base-3 digits, 5 per byte: #qc.ternary
  } kind = Float;
  enum Scalar { F32, F16, BF16 };

  int64_t group = 32;       // weights per block (vector chunk for Float)
  int64_t blockBytes = 0;   // Fields/Trits
  int64_t headerBytes = 0;  // per-tensor header before the first row
  Scalar element = F32;     // Float: the element type

  // Fields: scale (and minimum) of the block, then code bytes.
  Scalar scale = F16;
  int64_t scaleOffset = 0, minOffset = -1, codeOffset = 0, codeBytes = 0;
  int bits = 8;
  bool signedBytes = false; // codes stored as int8 (u = byte ^ 0x80)
  std::vector<int64_t> byteIndex, shift; // per weight of the block
  int64_t zero = 0;

  // Trits: the group's scale index (scaleTrits digits) picks a codebook
  // entry, times the f32 tensor scale in the header.
  int depth = 0, scaleTrits = 0;
  std::vector<float> codebook;
  /// 3^scaleTrits: the values a group's scale index can take.
  int64_t scaleLevels() const;

  // K-quants: a block of `subBlocks` groups sharing d and dmin, each group
  // with 6-bit scale and minimum codes (llama.cpp's get_scale_min_k4); the
  // layout of group j's codes is subs[j].
  int subBlocks = 1;
  bool kScales = false;
  std::vector<BlockLayout> subs;
  const BlockLayout &sub(int j) const { return subBlocks > 1 ? subs[j] : *this; }

  /// Bytes of one packed row of `cols` weights.
  int64_t rowBytes(int64_t cols) const;
  /// True when some weight's field spans two bytes.
  bool needsHighByte() const;
};

/// The layout of a codec name (Codec::name()); empty `why` on success,
/// otherwise the reason no kernel can be generated for it.
BlockLayout describeBlockLayout(const std::string &format, std::string &why);

/// floor(b / 3^d) for bytes b < 243 as (b * magic) >> 16 (exact; checked by
/// the unit tests), so vector code extracts trits without division.
int64_t tritDivisorMagic(int digit);

} // namespace qc::cpu

#endif // QC_LIB_CONVERSION_QCTOCPU_BLOCKLAYOUT_H
