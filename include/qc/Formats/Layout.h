//===- Layout.h - What a format's bytes hold, as data -----------*- C++ -*-===//
//
// The one description of a format's block layout, owned by its codec
// (Codec::layout()). The kernel generator, the dequantizing IR, the runtime
// and the tests all decode from it, so a new format is its codec plus this
// description; nothing else names formats.
//
// A block of `blockWeights` weights occupies `blockBytes` bytes. Every stored
// integer (a weight's code, a sub-block's scale or minimum) is assembled from
// bit pieces, and weight e of sub-block s = e / subBlock is
//
//   w = d * sub(s) * v(u_e) + minSign * dmin * subMin(s)     (Blocks)
//
// where d and dmin are stored scalars, v(u) = u - zero or values[u] for a
// non-uniform grid, and absent terms are 1 (sub) or 0 (the minimum).
//
//===----------------------------------------------------------------------===//
#ifndef QC_FORMATS_LAYOUT_H
#define QC_FORMATS_LAYOUT_H

#include <cstdint>
#include <string>
#include <vector>

namespace qc::formats {

/// A stored scalar: IEEE f32/f16, bfloat16, or an OCP e8m0 power of two
/// (2^(e - 127), one byte).
enum class Scalar { F32, F16, BF16, E8M0 };
int scalarBytes(Scalar s);
/// The scalar at `p`, as f32.
float readScalar(Scalar s, const uint8_t *p);

/// `bits` bits of element e, read from the little-endian 16-bit word at
/// byte byteOf[e] of the block shifted right by shift[e], placed at bit
/// `position` of the assembled integer.
struct BitPiece {
  int bits = 0, position = 0;
  std::vector<int64_t> byteOf, shift;
  /// Whether some element's bits reach into the next byte.
  bool spansBytes() const;
};

/// One unsigned integer per element, assembled from pieces, then XORed with
/// `flip` (0x80 turns a two's-complement byte into an offset one) and
/// offset: value = assembled ^ flip - bias.
struct PackedInts {
  std::vector<BitPiece> pieces;
  uint32_t flip = 0;
  int64_t bias = 0;

  bool empty() const { return pieces.empty(); }
  int64_t count() const { return empty() ? 0 : int64_t(pieces[0].byteOf.size()); }
  /// Bits of the assembled integer.
  int bits() const;
  /// The unsigned assembled integer of element e (flip applied, no bias).
  uint32_t raw(const uint8_t *block, int64_t e) const;
  int64_t read(const uint8_t *block, int64_t e) const {
    return int64_t(raw(block, e)) - bias;
  }
  /// Appends a piece whose element e sits at byte byteOf(e), shift shift(e).
  template <typename ByteOf, typename Shift>
  void add(int bits, int position, int64_t n, ByteOf byteOf, Shift shift) {
    BitPiece p;
    p.bits = bits;
    p.position = position;
    for (int64_t e = 0; e < n; ++e) {
      p.byteOf.push_back(byteOf(e));
      p.shift.push_back(shift(e));
    }
    pieces.push_back(std::move(p));
  }
};

struct Layout {
  enum Kind {
    Float,  // plain rows of `element`
    Blocks, // scaled integer codes (and value tables)
    Trits,  // balanced ternary digits, 5 per byte (#qc.ternary)
  } kind = Float;
  Scalar element = Scalar::F32; // Float

  int64_t blockWeights = 1, blockBytes = 4, headerBytes = 0;

  // Blocks.
  Scalar scaleType = Scalar::F16;
  int64_t scaleOffset = 0;
  int64_t minOffset = -1; // dmin (or the minimum itself); -1: none
  int minSign = 1;
  int64_t subBlock = 0;   // weights per sub-scale; 0 when none
  PackedInts subScales, subMins;
  PackedInts codes;       // blockWeights elements
  int64_t zero = 0;
  std::vector<float> values; // non-uniform grid: v(u) = values[u]

  // Trits: per group a scale index (scaleTrits digits, first) into
  // `codebook` times the f32 tensor scale in the header, then each weight's
  // `depth` digits, least significant first; v = u - zero.
  int depth = 0, scaleTrits = 0;
  std::vector<float> codebook;

  /// Sub-blocks per block (1 without sub-scales).
  int64_t subBlocks() const { return subBlock ? blockWeights / subBlock : 1; }
  /// Weights that share one scale: the sub-block, or the block.
  int64_t groupWeights() const { return subBlock ? subBlock : blockWeights; }
  /// Bytes of one packed row of `cols` weights (whole blocks).
  int64_t rowBytes(int64_t cols) const;
};

/// Reconstructs [rows x cols] floats from packed bytes by the layout alone:
/// the reference every layout consumer is tested against, and itself
/// checked against each codec's own dequantization.
void decodeByLayout(const Layout &layout, const uint8_t *src, int64_t rows,
                    int64_t cols, float *dst);

/// The value of trit digit t (0..4) of a byte as the kernels compute it:
/// floor(byte / 3^t) = (byte * tritDivisorMagic(t)) >> 16, exact below 243.
int64_t tritDivisorMagic(int digit);

} // namespace qc::formats

#endif // QC_FORMATS_LAYOUT_H
