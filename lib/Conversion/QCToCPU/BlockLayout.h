//===- BlockLayout.h - A format's layout as the kernels read it -*- C++ -*-===//
//
// Plain C++ (no MLIR): the codec's formats::Layout regrouped for the kernel
// generator, by scale group: each group's codes as bit pieces with the byte
// window a vector load covers. Derived from the layout alone, never from a
// format's name; the emitter branches on the capabilities below.
//
//===----------------------------------------------------------------------===//
#ifndef QC_LIB_CONVERSION_QCTOCPU_BLOCKLAYOUT_H
#define QC_LIB_CONVERSION_QCTOCPU_BLOCKLAYOUT_H

#include "qc/Formats/Codec.h"
#include "qc/Formats/Layout.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qc::cpu {

/// One bit piece of a group's codes (formats::BitPiece over the group's
/// weights), its bytes counted from `offset`: weight i is at byte offset +
/// byteOf[i] of the block.
struct CodePiece : formats::BitPiece {
  int64_t offset = 0, bytes = 0; // the window one vector load covers
  /// Weights 0..n/2-1 in the low nibbles of `bytes` = n/2 bytes, the rest
  /// in the high ones (Q4_0's qs and kin).
  bool nibbleHalves() const;
};

struct BlockLayout {
  using Scalar = formats::Scalar;
  enum Kind {
    Float,  // plain F32/F16/BF16 rows, no padding
    Fields, // scaled integer codes (formats::Layout::Blocks)
    Trits,  // base-3 digits, 5 per byte: #qc.ternary
  } kind = Float;

  int64_t group = 32;       // weights per scale (vector chunk for Float)
  int64_t blockBytes = 0;   // Fields/Trits
  int64_t headerBytes = 0;  // per-tensor header before the first row
  Scalar element = Scalar::F32; // Float: the element type

  // Fields: w = d * sub(j) * v(u) + minSign * dmin * subMin(j).
  Scalar scale = Scalar::F16;
  int64_t scaleOffset = 0, minOffset = -1;
  int minSign = 1;
  int subBlocks = 1;                       // scale groups per block
  formats::PackedInts subScales, subMins;  // empty: none
  std::vector<std::vector<CodePiece>> codes; // per group
  int bits = 8;        // bits of a code
  uint32_t flip = 0;   // XOR of the assembled code (0x80: int8 storage)
  int64_t zero = 0;
  std::vector<float> values; // non-uniform grid: v(u) = values[u]

  // Trits: the group's scale index (scaleTrits digits) picks a codebook
  // entry, times the f32 tensor scale in the header.
  int depth = 0, scaleTrits = 0;
  std::vector<float> codebook;
  /// 3^scaleTrits: the values a group's scale index can take.
  int64_t scaleLevels() const;

  /// Bytes of one packed row of `cols` weights.
  int64_t rowBytes(int64_t cols) const;
  bool subScaled() const { return !subScales.empty(); }
  bool hasMinimum() const { return minOffset >= 0; }
  /// Every group's codes are one piece (no high-bit planes).
  bool singlePiece() const;
  /// Group 2p + h is nibble h of the same 32 bytes (Q4_K's qs).
  bool pairedNibbles() const;
  /// Blocks of 32 plain 4-bit codes as nibble halves under one f16 scale,
  /// no minimum (Q4_0): the block and superblock kernels' packed path.
  bool nibbleBlocks() const;
  /// 256-weight blocks of groups of 16 or 32 under integer sub-block scales,
  /// with subtracted integer minimums (Q2_K, Q4_K, Q5_K) or a zero point
  /// (Q3_K, Q6_K), plain codes: superblocks that sum groups in integers
  /// under one activation scale per block.
  bool intScaleSuperblocks() const;
  /// Whether every piece of the codes reads `segment` consecutive weights
  /// from consecutive bytes at one shift, within a byte: codes decode
  /// `segment` lanes per load.
  bool contiguousSegments(int64_t segment) const;
};

/// The kernel view of a codec name (Codec::name()); empty `why` on
/// success, otherwise the reason no kernel can be generated for it.
BlockLayout describeBlockLayout(const std::string &format, std::string &why);

using formats::tritDivisorMagic;

} // namespace qc::cpu

#endif // QC_LIB_CONVERSION_QCTOCPU_BLOCKLAYOUT_H
