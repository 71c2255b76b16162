//===- KernelEmitter.h - The product kernel generator ------------*- C++ -*-===//
//
// One kernel per (format, rows, cols): y[t, r] = sum_k x[t, k] * w[r, k] for
// rows r0..r1, decoding the packed blocks in vector registers. The emitter
// is split by concern:
//   KernelEmitter.cpp    the kernel's frame and which strategy runs where;
//   DecodeBlocks.cpp     codes, scales and weights from the format's layout;
//   ProductsF32.cpp      f32 activations: register tiles of rows x tokens;
//   ProductsQ8.cpp       int8 activations: integer dots, row-block kernels;
//   SuperblockPlans.cpp  register-wide superblocks (ternary, nibble blocks,
//                        integer-scale K-quants).
//
//===----------------------------------------------------------------------===//
#ifndef QC_LIB_CONVERSION_QCTOCPU_KERNELEMITTER_H
#define QC_LIB_CONVERSION_QCTOCPU_KERNELEMITTER_H

#include "lib/Conversion/QCToCPU/ABITypes.h"
#include "lib/Conversion/QCToCPU/BlockLayout.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace mlir::qc::cpu {

using ::qc::cpu::BlockLayout;

/// Avx512Vbmi: AVX-512 VNNI plus VBMI's byte permutes (table lookups).
enum class Target { Generic, Avx2, AvxVnni, Avx512Vnni, Avx512Vbmi };

/// A register-wide superblock kernel: the row's weights decode a superblock
/// (several blocks) at a time into byte vectors of codes, and the tile's q8
/// activations are rearranged once so that each code vector meets its own
/// activation vector lane for lane in an integer dot product; the i32 lanes
/// of the accumulators are then single groups, scaled as vectors.
struct SuperPlan {
  int64_t weights = 0, bytes = 0; // per superblock
  /// Per code vector: the weight (within the superblock) of each byte lane,
  /// -1 where the byte is not a weight's code (its activation is 0).
  SmallVector<SmallVector<int64_t>> actLanes;
  /// The accumulator each code vector adds into.
  SmallVector<int64_t> accOf;
  int64_t accs = 1;
  /// Start values: lane l of accumulator a is initFactor * (sums[initA[a][l]]
  /// + sums[initB[a][l]]) over the superblock's sums of 16 activations (-1:
  /// no term); initFactor 0: start at 0.
  SmallVector<SmallVector<int64_t>> initA, initB;
  int64_t initFactor = 0;
  /// Per accumulator, per lane: the 32-block whose activation scale it takes.
  SmallVector<SmallVector<int64_t>> dxOf;
  /// K-quants (one activation scale per superblock): each accumulator's
  /// i32 lanes times their groups' integer scales sum into one i32 vector,
  /// the integer minimums times the sums of 32 activations into another;
  /// two conversions and FMAs (d * dx, -dmin * dx) per superblock.
  bool intScales = false;
  /// intScales: code vector v holds weights 64v.. in order, decoded
  /// `segment` lanes per load (0: Q4_K's paired nibbles, kGroup order).
  int64_t segment = 0;
  /// Registers (V bytes each) of a token's rearranged activations per
  /// superblock: the activation vectors, then either the start values and
  /// scales of each accumulator, or (intScales) the sums of 32.
  int64_t slotVectors() const {
    return int64_t(actLanes.size()) +
           (intScales ? 1 : (initFactor ? accs : 0) + accs);
  }
};

/// Builds one kernel function.
class KernelEmitter {
public:
  /// actBlock: 0 for f32 activations, else the weights per q8 activation
  /// scale (32, or 256 for the integer K-quant kernels).
  KernelEmitter(ImplicitLocOpBuilder &b, const BlockLayout &L, int64_t rows,
                int64_t cols, Target target, int64_t actBlock)
      : b(b), L(L), N(rows), K(cols), target(target), actBlock(actBlock) {}

  func::FuncOp emit(StringRef name, StringRef key, ModuleOp module);

private:
  // Constants.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32(float v) {
    return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(v));
  }
  Value i32Vector(ArrayRef<int64_t> values) {
    SmallVector<int32_t> v(values.begin(), values.end());
    auto type = VectorType::get({int64_t(v.size())}, b.getI32Type());
    return arith::ConstantOp::create(b, DenseElementsAttr::get(type, ArrayRef(v)));
  }
  Value i32Splat(int64_t n, int32_t v) {
    auto type = VectorType::get({n}, b.getI32Type());
    return arith::ConstantOp::create(b, DenseElementsAttr::get(type, v));
  }
  /// A constant vector of `like`'s type with every lane `v`.
  Value splatLike(Value like, int64_t v) {
    auto type = cast<VectorType>(like.getType());
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(type, b.getIntegerAttr(type.getElementType(), v)));
  }
  Value i16Vector(ArrayRef<int64_t> values) {
    SmallVector<int16_t> v(values.begin(), values.end());
    auto type = VectorType::get({int64_t(v.size())}, b.getI16Type());
    return arith::ConstantOp::create(b, DenseElementsAttr::get(type, ArrayRef(v)));
  }
  Value f32Zeros(int64_t n) {
    auto type = VectorType::get({n}, b.getF32Type());
    return arith::ConstantOp::create(b, DenseElementsAttr::get(type, 0.0f));
  }
  Value add(Value a, Value c) { return arith::AddIOp::create(b, a, c); }
  Value mul(Value a, Value c) { return arith::MulIOp::create(b, a, c); }

  Value loadScalar(Value byteOffset, BlockLayout::Scalar s);
  Value codePiece(Value blockBase, const ::qc::cpu::CodePiece &p);
  Value codes(Value blockBase, int sub);
  std::pair<Value, Value> blockScale(Value blockBase, int sub);
  Value packedInts(Value blockBase, const ::qc::formats::PackedInts &ints);
  Value weightsF32(Value blockBase, int sub, Value mask);
  /// Byte offset of block `group` of the row at `rowBase`.
  Value blockBaseOf(Value rowBase, Value group) {
    int64_t stride = L.kind == BlockLayout::Float
                         ? L.group * ::qc::formats::scalarBytes(L.element)
                         : L.blockBytes;
    return add(rowBase, mul(group, idx(stride)));
  }
  Value loadByte(Value blockBase, int64_t offset);
  /// Token t's activation scale for its weights from k0 (a multiple of 32).
  Value loadDx(Value t, Value k0) {
    Value blocks = idx((K + actBlock - 1) / actBlock);
    return memref::LoadOp::create(
        b, xd, ValueRange{add(mul(t, blocks), arith::DivUIOp::create(b, k0, idx(actBlock)))});
  }
  void emitRowTileF32(ArrayRef<Value> rows, Value t0, int64_t tile);
  /// y[t0 + j, rows[i]] = the lane sum of accs[i * tile + j].
  void storeRowSums(ArrayRef<Value> accs, ArrayRef<Value> rows, Value t0,
                    int64_t tile);
  void emitRowTileQ8(Value r, Value t0, int64_t tile);
  void emitDecodeRowBlock(Value r);
  void emitRowBlockQ8(Value r, Value t0, Value f0, int64_t tile);
  /// Fills blockFactors for `count` tokens from t0 (once; every row block
  /// reads them).
  void emitBlockFactors(Value t0, Value count);
  /// Token tiles the block kernels take per decode of a row block.
  static constexpr int64_t kSpanTiles = 8;
  /// Whether the kernel takes int8 activations.
  bool q8() const { return actBlock > 0; }
  bool hasMinimum() const { return L.hasMinimum(); }
  bool avx512() const {
    return target == Target::Avx512Vnni || target == Target::Avx512Vbmi;
  }
  /// Bytes of one integer-dot register of the target.
  int64_t vectorBytes() const { return avx512() ? 64 : 32; }
  /// The superblock plan for tiles of `tile` tokens, if the format and
  /// shape have one.
  std::optional<SuperPlan> superPlan(int64_t tile) const;
  /// Code vectors (one per plan.actLanes), per-accumulator scale vectors and
  /// (K-quants) the minimum vector of the superblock at byte `at`.
  /// intScales plans: i32 scale and minimum lanes, and the f32 d, dmin.
  struct SuperCodes {
    SmallVector<Value> codes, scales;
    Value mins, d, dmin;
  };
  SuperCodes decodeSuper(const SuperPlan &plan, Value at);
  Value wideCodes(Value at, int64_t first, int64_t segment);
  void emitSuperActivations(const SuperPlan &plan, Value t0, int64_t tile);
  /// `rows` at once (each activation load serves all of them).
  void emitRowSuperQ8(const SuperPlan &plan, ArrayRef<Value> rows, Value t0,
                      int64_t tile);
  /// Tokens that share one decode of a weight block: int8 accumulators
  /// are narrow, f32 ones hold a whole group; ternary superblocks take
  /// eight tokens over row pairs (their activations stream from the cache
  /// once for both rows).
  int64_t tokenTile() const {
    if (!q8())
      return avx512() ? 6 : 8;
    // Ternary (over row pairs) and group-16 integer-scale superblocks (a
    // row at a time): eight tokens keep their accumulators in registers
    // (Q6_K pp128, Llama-3.2-1B shapes, 1 thread: 25 -> 100 tok/s; 16
    // tokens measured no faster).
    return (L.kind == BlockLayout::Trits || L.group == 16) && superPlan(8) ? 8 : 16;
  }
  /// Rows (vectors of n lanes, a power-of-two count) to n vectors of one
  /// lane of every row, by interleaving: after level k, lane 2^k * j + e
  /// of a vector holds lane j of its e-th row.
  SmallVector<Value> transpose(SmallVector<Value> rows) {
    int64_t lanes = cast<VectorType>(rows[0].getType()).getNumElements();
    int64_t count = int64_t(rows.size());
    for (int64_t width = 1; rows.size() > 1; width *= 2) {
      SmallVector<Value> next;
      int64_t n = cast<VectorType>(rows[0].getType()).getNumElements();
      for (size_t p = 0; p < rows.size(); p += 2) {
        SmallVector<int64_t> mask;
        for (int64_t j = 0; j < n / width; ++j)
          for (int64_t side = 0; side < 2; ++side)
            for (int64_t e = 0; e < width; ++e)
              mask.push_back(side * n + j * width + e);
        next.push_back(vector::ShuffleOp::create(b, rows[p], rows[p + 1], mask));
      }
      rows = next;
    }
    SmallVector<Value> columns;
    for (int64_t q = 0; q < lanes; ++q)
      columns.push_back(vector::ExtractStridedSliceOp::create(
          b, rows[0], ArrayRef<int64_t>{q * count}, ArrayRef<int64_t>{count},
          ArrayRef<int64_t>{1}));
    return columns;
  }
  /// Rows a block kernel computes at once: a vpdpbusd's i32 lanes.
  int64_t blockRows() const { return avx512() ? 16 : 8; }
  /// Float rows of a register tile: on AVX-512, 4 x 6 accumulators of 16
  /// f32 lanes, a weight vector per row and one activation vector fill the
  /// 32 registers (1.4x the pp speed of 2 x 8, Llama-3.2-1B shapes). AVX2
  /// spills either way; its 2 x 8 measured 8% faster than 2 x 3.
  int64_t floatTileRows() const { return avx512() ? 4 : 2; }
  Value dotBytes(Value u, Value a);
  Value maddBytes(Value u, Value a);
  Value maddWords(Value u, Value v);
  Value dotBytesInto(Value acc, Value u, Value a);

  ImplicitLocOpBuilder &b;
  const BlockLayout &L;
  int64_t N, K;
  Target target;
  int64_t actBlock;
  Value w, x, xq, xd, xs, y, T, tensorScale, codebook, valueTable;
  /// Superblock kernels: the tile's rearranged activations, and the ternary
  /// codebook times the tensor scale as two registers (AVX-512).
  Value superActs, scaledCodebook[2];
  /// Block kernels: per (token of the span, group of 32), dx * sum(x)
  /// as f32 for formats with a minimum (its factor), else -zero * sum(x) as
  /// i32 (the integer accumulator's start value).
  Value blockFactors;
  /// Block kernels: a decoded row block's code vectors and its scale and
  /// minimum vectors per group.
  Value decodedCodes, decodedScales;
  /// Sub-scaled blocks: the groups' scale and minimum vectors, by the
  /// block's address value.
  llvm::DenseMap<void *, std::pair<Value, Value>> subScaleCache;
};

/// Rows are stored after the header, rowBytes apart.
Value rowBaseOf(ImplicitLocOpBuilder &b, const BlockLayout &L, Value r, int64_t K);

} // namespace mlir::qc::cpu

#endif // QC_LIB_CONVERSION_QCTOCPU_KERNELEMITTER_H
