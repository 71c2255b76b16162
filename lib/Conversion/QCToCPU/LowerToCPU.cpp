//===- LowerToCPU.cpp - qc-lower-to-cpu -----------------------------------===//
//
// One kernel per (format, rows, cols): y[t, r] = sum_k x[t, k] * w[r, k] for
// rows r0..r1, decoding the packed blocks in vector registers.
//
//===----------------------------------------------------------------------===//
#include "lib/Conversion/QCToCPU/ABITypes.h"
#include "lib/Conversion/QCToCPU/BlockLayout.h"
#include "lib/Conversion/QCToCPU/Passes.h"
#include "lib/Conversion/QCToCPU/Q8Codes.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace mlir::qc {
#define GEN_PASS_DEF_QCLOWERTOCPU
#include "lib/Conversion/QCToCPU/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;
using ::qc::cpu::BlockLayout;

namespace {

/// Avx512Vbmi: AVX-512 VNNI plus VBMI's byte permutes (table lookups).
enum class Target { Generic, Avx2, AvxVnni, Avx512Vnni, Avx512Vbmi };


/// Resolves `native` from the host's CPU features.
FailureOr<Target> parseTarget(StringRef name) {
  if (name == "generic") return Target::Generic;
  if (name == "avx2") return Target::Avx2;
  if (name == "avxvnni") return Target::AvxVnni;
  if (name == "avx512vnni") return Target::Avx512Vnni;
  if (name == "avx512vbmi") return Target::Avx512Vbmi;
  if (name != "native") return failure();
  llvm::StringMap<bool> f = llvm::sys::getHostCPUFeatures();
  if (f.lookup("avx512vnni") && f.lookup("avx512vl"))
    return f.lookup("avx512vbmi") ? Target::Avx512Vbmi : Target::Avx512Vnni;
  if (f.lookup("avxvnni")) return Target::AvxVnni;
  if (f.lookup("avx2")) return Target::Avx2;
  return Target::Generic;
}

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
    return L.kind == BlockLayout::Trits && superPlan(16) ? 8 : 16;
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

/// A little-endian stored scalar at a byte offset of the weights, as f32.
Value KernelEmitter::loadScalar(Value at, BlockLayout::Scalar s) {
  using ::qc::formats::Scalar;
  if (s == Scalar::E8M0) {
    // 2^(e - 127): the byte as an f32 exponent (e = 0 is the subnormal
    // 2^-127, bit 22).
    Value e = loadByte(at, 0);
    Value bits = arith::SelectOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, e,
                                 arith::ConstantIntOp::create(b, b.getI32Type(), 0)),
        arith::ConstantIntOp::create(b, b.getI32Type(), 0x00400000),
        arith::ShLIOp::create(b, e, arith::ConstantIntOp::create(b, b.getI32Type(), 23)));
    return arith::BitcastOp::create(b, b.getF32Type(), bits);
  }
  Type t = s == Scalar::F32   ? Type(b.getF32Type())
           : s == Scalar::F16 ? Type(b.getF16Type())
                              : Type(b.getBF16Type());
  int64_t bytes = ::qc::formats::scalarBytes(s);
  Value raw = vector::LoadOp::create(
      b, VectorType::get({bytes}, b.getI8Type()), w, ValueRange{at});
  Value cast = vector::BitCastOp::create(b, VectorType::get({1}, t), raw);
  Value v = vector::ExtractOp::create(b, cast, ArrayRef<int64_t>{0});
  return s == Scalar::F32 ? v : arith::ExtFOp::create(b, b.getF32Type(), v);
}

/// One bit piece of group codes as vector<group x i16>, masked and moved
/// to its position.
Value KernelEmitter::codePiece(Value blockBase, const ::qc::cpu::CodePiece &p) {
  int64_t G = L.group;
  auto i8s = [&](int64_t n) { return VectorType::get({n}, b.getI8Type()); };
  auto i16s = VectorType::get({G}, b.getI16Type());
  Value bytes = vector::LoadOp::create(b, i8s(p.bytes), w,
                                       ValueRange{add(blockBase, idx(p.offset))});
  Value u;
  if (p.nibbleHalves()) {
    // Low nibbles then high ones: masks and one byte shift, no widening
    // shuffle.
    Value mask = arith::ConstantOp::create(
        b, DenseElementsAttr::get(i8s(G / 2), int8_t(15)));
    Value lo = arith::AndIOp::create(b, bytes, mask);
    Value hi = arith::ShRUIOp::create(
        b, bytes,
        arith::ConstantOp::create(b, DenseElementsAttr::get(i8s(G / 2), int8_t(4))));
    SmallVector<int64_t> both;
    for (int64_t i = 0; i < G; ++i)
      both.push_back(i);
    u = arith::ExtUIOp::create(b, i16s, vector::ShuffleOp::create(b, lo, hi, both));
  } else {
    bool identity = p.bytes == G;
    for (int64_t i = 0; identity && i < G; ++i)
      identity = p.byteIndex[i] == i;
    Value lo = identity ? bytes
                        : vector::ShuffleOp::create(b, bytes, bytes, p.byteIndex)
                              .getResult();
    u = arith::ExtUIOp::create(b, i16s, lo);
    if (p.needsHighByte()) {
      SmallVector<int64_t> next;
      for (int64_t i : p.byteIndex)
        next.push_back(std::min(i + 1, p.bytes - 1));
      Value hi = arith::ExtUIOp::create(
          b, i16s, vector::ShuffleOp::create(b, bytes, bytes, next));
      u = arith::OrIOp::create(b, u, arith::ShLIOp::create(b, hi, splatLike(hi, 8)));
    }
    if (llvm::any_of(p.shift, [](int64_t s) { return s != 0; }))
      u = arith::ShRUIOp::create(b, u, i16Vector(p.shift));
    if (p.bits < 8 || p.needsHighByte())
      u = arith::AndIOp::create(b, u, splatLike(u, (1 << p.bits) - 1));
  }
  if (p.position)
    u = arith::ShLIOp::create(b, u, splatLike(u, p.position));
  return u;
}

/// The unsigned codes of group `sub` of a block: vector<group x i16> for bit
/// fields (at most 8 bits from two bytes), vector<group x i32> for trits
/// (their digit extraction multiplies past 16 bits).
Value KernelEmitter::codes(Value blockBase, int sub) {
  int64_t G = L.group;
  auto i8s = [&](int64_t n) { return VectorType::get({n}, b.getI8Type()); };
  auto i32s = VectorType::get({G}, b.getI32Type());
  if (L.kind == BlockLayout::Trits) {
    // Weight i's digit t is trit scaleTrits + i*depth + t of the block: byte
    // index / 5, digit index % 5, extracted as (byte * magic >> 16) mod 3.
    Value bytes = vector::LoadOp::create(b, i8s(L.blockBytes), w,
                                         ValueRange{blockBase});
    Value u = i32Splat(G, 0);
    for (int t = 0, p3 = 1; t < L.depth; ++t, p3 *= 3) {
      SmallVector<int64_t> byteOf, magic;
      for (int64_t i = 0; i < G; ++i) {
        int64_t trit = L.scaleTrits + i * L.depth + t;
        byteOf.push_back(trit / 5);
        magic.push_back(::qc::cpu::tritDivisorMagic(int(trit % 5)));
      }
      Value sel = vector::ShuffleOp::create(b, bytes, bytes, byteOf);
      Value v = arith::ExtUIOp::create(b, i32s, sel);
      Value q = arith::ShRUIOp::create(b, mul(v, i32Vector(magic)),
                                       i32Splat(G, 16));
      Value q3 = arith::ShRUIOp::create(b, mul(q, i32Splat(G, 21846)),
                                        i32Splat(G, 16));
      Value digit = arith::SubIOp::create(b, q, mul(q3, i32Splat(G, 3)));
      u = add(u, p3 == 1 ? digit : mul(digit, i32Splat(G, p3)));
    }
    return u;
  }
  Value u;
  for (const ::qc::cpu::CodePiece &p : L.codes[sub]) {
    Value part = codePiece(blockBase, p);
    u = u ? arith::OrIOp::create(b, u, part).getResult() : part;
  }
  if (L.flip)
    u = arith::XOrIOp::create(b, u, splatLike(u, L.flip));
  return u;
}

/// The unsigned byte at blockBase + offset, as i32.
Value KernelEmitter::loadByte(Value blockBase, int64_t offset) {
  Value v = memref::LoadOp::create(b, w, ValueRange{add(blockBase, idx(offset))});
  return arith::ExtUIOp::create(b, b.getI32Type(), v);
}

/// The integers of a block's PackedInts (sub-block scales or minimums) as
/// i32 lanes, bias applied: each piece's bytes shuffled so lane j sees its
/// byte, then shifted and masked.
Value KernelEmitter::packedInts(Value blockBase, const ::qc::formats::PackedInts &P) {
  int64_t n = P.count();
  auto i32s = VectorType::get({n}, b.getI32Type());
  Value u;
  for (const ::qc::formats::BitPiece &p : P.pieces) {
    int64_t lo = *std::min_element(p.byteOf.begin(), p.byteOf.end());
    int64_t hi = *std::max_element(p.byteOf.begin(), p.byteOf.end()) +
                 (p.spansBytes() ? 1 : 0);
    Value raw = vector::LoadOp::create(b, VectorType::get({hi - lo + 1}, b.getI8Type()),
                                       w, ValueRange{add(blockBase, idx(lo))});
    auto pick = [&](int64_t plus) {
      SmallVector<int64_t> lanes;
      for (int64_t at : p.byteOf)
        lanes.push_back(std::min(at - lo + plus, hi - lo));
      return arith::ExtUIOp::create(b, i32s, vector::ShuffleOp::create(b, raw, raw, lanes))
          .getResult();
    };
    Value v = pick(0);
    if (p.spansBytes())
      v = arith::OrIOp::create(b, v, arith::ShLIOp::create(b, pick(1), i32Splat(n, 8)));
    v = arith::ShRUIOp::create(b, v, i32Vector(SmallVector<int64_t>(p.shift.begin(), p.shift.end())));
    v = arith::AndIOp::create(b, v, i32Splat(n, (1 << p.bits) - 1));
    if (p.position)
      v = arith::ShLIOp::create(b, v, i32Splat(n, p.position));
    u = u ? arith::OrIOp::create(b, u, v).getResult() : v;
  }
  if (P.flip)
    u = arith::XOrIOp::create(b, u, i32Splat(n, int32_t(P.flip)));
  if (P.bias)
    u = arith::SubIOp::create(b, u, i32Splat(n, int32_t(P.bias)));
  return u;
}

std::pair<Value, Value> KernelEmitter::blockScale(Value blockBase, int sub) {
  if (L.subScaled()) {
    // d * scale and minSign * dmin * min of every group, once per block
    // (cached by the block's address value).
    auto &cached = subScaleCache[blockBase.getAsOpaquePointer()];
    if (!cached.first) {
      auto f32s = VectorType::get({L.subBlocks}, b.getF32Type());
      Value d = loadScalar(add(blockBase, idx(L.scaleOffset)), L.scale);
      cached.first = arith::MulFOp::create(
          b, arith::SIToFPOp::create(b, f32s, packedInts(blockBase, L.subScales)),
          vector::BroadcastOp::create(b, f32s, d));
      if (L.hasMinimum()) {
        Value dmin = loadScalar(add(blockBase, idx(L.minOffset)), L.scale);
        if (L.minSign < 0)
          dmin = arith::NegFOp::create(b, dmin);
        Value m = vector::BroadcastOp::create(b, f32s, dmin);
        if (!L.subMins.empty())
          m = arith::MulFOp::create(
              b, arith::SIToFPOp::create(b, f32s, packedInts(blockBase, L.subMins)), m);
        cached.second = m;
      }
    }
    Value m = cached.second ? vector::ExtractOp::create(b, cached.second,
                                                        ArrayRef<int64_t>{sub})
                                  .getResult()
                            : Value();
    return {vector::ExtractOp::create(b, cached.first, ArrayRef<int64_t>{sub}), m};
  }
  if (L.kind == BlockLayout::Fields) {
    Value d = loadScalar(add(blockBase, idx(L.scaleOffset)), L.scale);
    Value m;
    if (L.hasMinimum()) {
      m = loadScalar(add(blockBase, idx(L.minOffset)), L.scale);
      if (L.minSign < 0)
        m = arith::NegFOp::create(b, m);
    }
    return {d, m};
  }
  // Trits: the scale index is the block's first scaleTrits digits, all in
  // byte 0 (at most five: 243 scales), i.e. that byte mod 3^scaleTrits.
  Value byte = memref::LoadOp::create(b, w, ValueRange{blockBase});
  Value k = arith::RemUIOp::create(
      b, arith::ExtUIOp::create(b, b.getI32Type(), byte),
      arith::ConstantIntOp::create(b, b.getI32Type(), L.scaleLevels()));
  k = arith::MinUIOp::create(
      b, k,
      arith::ConstantIntOp::create(b, b.getI32Type(), int64_t(L.codebook.size()) - 1));
  Value entry = memref::LoadOp::create(
      b, codebook,
      ValueRange{arith::IndexCastUIOp::create(b, b.getIndexType(), k)});
  return {arith::MulFOp::create(b, entry, tensorScale), Value()};
}

/// Weights of group `sub` of the block at `blockBase` as vector<group x f32>;
/// `mask` (may be null) limits the loads of unpadded float rows.
Value KernelEmitter::weightsF32(Value blockBase, int sub, Value mask) {
  int64_t G = L.group;
  auto f32s = VectorType::get({G}, b.getF32Type());
  if (L.kind == BlockLayout::Float) {
    using ::qc::formats::Scalar;
    int64_t eb = ::qc::formats::scalarBytes(L.element);
    Type et = L.element == Scalar::F32   ? Type(b.getF32Type())
              : L.element == Scalar::F16 ? Type(b.getF16Type())
                                         : Type(b.getBF16Type());
    Value at = blockBase;
    auto bytesType = VectorType::get({G * eb}, b.getI8Type());
    Value raw;
    if (mask) {
      // Mask whole elements: every byte of a lane shares its bit.
      SmallVector<int64_t> lanes;
      for (int64_t i = 0; i < G * eb; ++i)
        lanes.push_back(i / eb);
      Value byteMask = vector::ShuffleOp::create(b, mask, mask, lanes);
      Value zero = arith::ConstantOp::create(
          b, DenseElementsAttr::get(bytesType, int8_t(0)));
      raw = vector::MaskedLoadOp::create(b, bytesType, w, ValueRange{at},
                                         byteMask, zero);
    } else {
      raw = vector::LoadOp::create(b, bytesType, w, ValueRange{at});
    }
    Value v = vector::BitCastOp::create(b, VectorType::get({G}, et), raw);
    return L.element == Scalar::F32 ? v : arith::ExtFOp::create(b, f32s, v);
  }
  auto [d, m] = blockScale(blockBase, sub);
  Value u = codes(blockBase, sub);
  Value v;
  if (!L.values.empty()) {
    // A non-uniform grid: the codes index its value table.
    auto i32s = VectorType::get({G}, b.getI32Type());
    Value all = vector::ConstantMaskOp::create(
        b, VectorType::get({G}, b.getI1Type()), ArrayRef<int64_t>{G});
    v = vector::GatherOp::create(b, f32s, valueTable, ValueRange{idx(0)},
                                 arith::ExtUIOp::create(b, i32s, u), all, f32Zeros(G));
  } else {
    if (L.zero)
      u = arith::SubIOp::create(b, u, splatLike(u, L.zero));
    v = arith::SIToFPOp::create(b, f32s, u);
  }
  v = arith::MulFOp::create(b, v, vector::BroadcastOp::create(b, f32s, d));
  if (m)
    v = arith::AddFOp::create(b, v, vector::BroadcastOp::create(b, f32s, m));
  return v;
}

/// Rows are stored after the header, rowBytes apart.
static Value rowBaseOf(ImplicitLocOpBuilder &b, const BlockLayout &L, Value r,
                       int64_t K) {
  Value stride = arith::ConstantIndexOp::create(b, L.rowBytes(K));
  Value header = arith::ConstantIndexOp::create(b, L.headerBytes);
  return arith::AddIOp::create(b, header, arith::MulIOp::create(b, r, stride));
}

void KernelEmitter::emitRowTileF32(ArrayRef<Value> rows, Value t0,
                                   int64_t tile) {
  // K-quant rows hold whole blocks of subBlocks groups (the verifier
  // checks), so only single-group blocks have a tail. Every activation
  // vector loaded serves all `rows`. One row of float weights for one token
  // takes two chunks a step into two accumulator sets: two FMA chains.
  int64_t G = L.group, S = L.subBlocks, full = K / (G * S), tail = K % G;
  int64_t R = int64_t(rows.size()), set = R * tile;
  int64_t U = L.kind == BlockLayout::Float && set == 1 && full >= 2 ? 2 : 1;
  auto f32s = VectorType::get({G}, b.getF32Type());
  SmallVector<Value> rowBase;
  for (Value r : rows)
    rowBase.push_back(rowBaseOf(b, L, r, K));
  SmallVector<Value> xRow;
  for (int64_t j = 0; j < tile; ++j)
    xRow.push_back(mul(add(t0, idx(j)), idx(K)));
  // Chunk (block) `g` into accumulator set u: (row i, token j) at
  // u * set + i * tile + j. A mask marks the row's short last chunk.
  auto accumulate = [&](Value g, int64_t u, MutableArrayRef<Value> acc,
                        Value mask) {
    // One block base for all its groups: K-quant scales decode once.
    SmallVector<Value> blockBase;
    for (Value base : rowBase)
      blockBase.push_back(blockBaseOf(base, g));
    for (int sub = 0; sub < S; ++sub) {
      SmallVector<Value> wf;
      for (Value base : blockBase)
        wf.push_back(weightsF32(base, sub, mask));
      Value k0 = mul(add(mul(g, idx(S)), idx(sub)), idx(G));
      for (int64_t j = 0; j < tile; ++j) {
        Value at = add(xRow[j], k0);
        Value xv = mask ? vector::MaskedLoadOp::create(b, f32s, x, ValueRange{at},
                                                       mask, f32Zeros(G))
                              .getResult()
                        : vector::LoadOp::create(b, f32s, x, ValueRange{at})
                              .getResult();
        for (int64_t i = 0; i < R; ++i) {
          Value &a = acc[u * set + i * tile + j];
          a = vector::FMAOp::create(b, wf[i], xv, a);
        }
      }
    }
  };
  SmallVector<Value> init(U * set, f32Zeros(G));
  auto loop = scf::ForOp::create(b, idx(0), idx(full / U), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next(loop.getRegionIterArgs());
    for (int64_t u = 0; u < U; ++u)
      accumulate(add(mul(loop.getInductionVar(), idx(U)), idx(u)), u, next,
                 Value());
    scf::YieldOp::create(b, next);
  }
  SmallVector<Value> accs(loop.getResults());
  if (full % U)
    accumulate(idx(full - 1), 0, accs, Value());
  if (tail)
    accumulate(idx(full), 0, accs,
               vector::ConstantMaskOp::create(
                   b, VectorType::get({G}, b.getI1Type()), ArrayRef<int64_t>{tail}));
  for (int64_t u = 1; u < U; ++u)
    for (int64_t k = 0; k < set; ++k)
      accs[k] = arith::AddFOp::create(b, accs[k], accs[u * set + k]);
  storeRowSums(accs, rows, t0, tile);
}

void KernelEmitter::storeRowSums(ArrayRef<Value> accs, ArrayRef<Value> rows,
                                 Value t0, int64_t tile) {
  for (size_t i = 0; i < rows.size(); ++i)
    for (int64_t j = 0; j < tile; ++j) {
      Value s = vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                            accs[i * tile + j],
                                            arith::FastMathFlags::reassoc);
      memref::StoreOp::create(
          b, s, y, ValueRange{add(mul(add(t0, idx(j)), idx(N)), rows[i])});
    }
}

/// sum over each 4 bytes of u (unsigned) times a (signed), as i32 lanes.
Value KernelEmitter::dotBytes(Value u, Value a) {
  return dotBytesInto(i32Splat(cast<VectorType>(u.getType()).getNumElements() / 4, 0), u, a);
}

/// acc + sum over each 4 bytes of u (unsigned) times a (signed).
Value KernelEmitter::dotBytesInto(Value acc, Value u, Value a) {
  int64_t lanes = cast<VectorType>(u.getType()).getNumElements() / 4;
  auto i32s = VectorType::get({lanes}, b.getI32Type());
  if (target == Target::Avx2) {
    // pmaddubsw (pairs of u8 * s8 into s16; codes below 128 keep the pair
    // sums clear of saturation), then pmaddwd by ones into the i32 lanes.
    bool wide = lanes == 8;
    auto i16s = VectorType::get({lanes * 2}, b.getI16Type());
    Value pairs = LLVM::CallIntrinsicOp::create(
                      b, i16s,
                      b.getStringAttr(wide ? "llvm.x86.avx2.pmadd.ub.sw"
                                           : "llvm.x86.ssse3.pmadd.ub.sw.128"),
                      ValueRange{u, a})
                      .getResult(0);
    Value ones = arith::ConstantOp::create(b, DenseElementsAttr::get(i16s, int16_t(1)));
    Value quads = LLVM::CallIntrinsicOp::create(
                      b, i32s,
                      b.getStringAttr(wide ? "llvm.x86.avx2.pmadd.wd"
                                           : "llvm.x86.sse2.pmadd.wd"),
                      ValueRange{pairs, ones})
                      .getResult(0);
    return arith::AddIOp::create(b, acc, quads);
  }
  // LLVM 22's vpdpbusd intrinsics take the bytes as <N x i8>.
  std::string name = avx512() ? "llvm.x86.avx512.vpdpbusd."
                                                  : "llvm.x86.avxvnni.vpdpbusd.";
  name += std::to_string(lanes * 32);
  return LLVM::CallIntrinsicOp::create(b, i32s, b.getStringAttr(name),
                                       ValueRange{acc, u, a})
      .getResult(0);
}

void KernelEmitter::emitRowTileQ8(Value r, Value t0, int64_t tile) {
  int64_t G = L.group, S = L.subBlocks, groups = (K + G * S - 1) / (G * S);
  int64_t Kp = (K + 31) / 32 * 32, lanes = G / 4;
  auto f32s = VectorType::get({lanes}, b.getF32Type());
  auto i8s = VectorType::get({G}, b.getI8Type());
  Value rowBase = rowBaseOf(b, L, r, K);
  // One group into the accumulators: `tile` f32 vectors, then `tile` f32
  // scalars for the minimum's share.
  auto step = [&](Value g, ValueRange accs) {
    SmallVector<Value> next(accs.begin(), accs.end());
    Value blockBase = blockBaseOf(rowBase, g);
    for (int sub = 0; sub < S; ++sub) {
    auto [d, m] = blockScale(blockBase, sub);
    Value u = codes(blockBase, sub);
    // Symmetric formats: signed codes w = u - zero meet x as |w| (unsigned)
    // and x * sign(w), so one vpdpbusd gives sum w * x. With a minimum m:
    // sum (d * u + m) * x = d * dot(u, x) + m * sum(x), from the sums.
    Value left, negative, zero8;
    if (m) {
      left = arith::TruncIOp::create(b, i8s, u);
    } else {
      Value ws = arith::TruncIOp::create(
          b, i8s, arith::SubIOp::create(b, u, splatLike(u, L.zero)));
      zero8 = arith::ConstantOp::create(b, DenseElementsAttr::get(i8s, int8_t(0)));
      negative = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, ws, zero8);
      left = arith::SelectOp::create(b, negative,
                                     arith::SubIOp::create(b, zero8, ws), ws);
    }
    Value k0 = mul(add(mul(g, idx(S)), idx(sub)), idx(G));
    for (int64_t j = 0; j < tile; ++j) {
      Value t = add(t0, idx(j));
      Value a = vector::LoadOp::create(b, i8s, xq,
                                       ValueRange{add(mul(t, idx(Kp)), k0)});
      if (!m)
        a = arith::SelectOp::create(b, negative,
                                    arith::SubIOp::create(b, zero8, a), a);
      Value dot = dotBytes(left, a);
      Value dx = loadDx(t, k0);
      Value scale = arith::MulFOp::create(b, d, dx);
      next[j] = vector::FMAOp::create(b, arith::SIToFPOp::create(b, f32s, dot),
                                      vector::BroadcastOp::create(b, f32s, scale),
                                      next[j]);
      if (!m)
        continue;
      Value half = add(mul(t, idx(Kp / 16)), arith::DivUIOp::create(b, k0, idx(16)));
      Value sum = memref::LoadOp::create(b, xs, ValueRange{half});
      if (G == 32)
        sum = add(sum, memref::LoadOp::create(b, xs, ValueRange{add(half, idx(1))}));
      Value corr = arith::MulFOp::create(
          b, arith::MulFOp::create(b, m, dx),
          arith::SIToFPOp::create(b, b.getF32Type(), sum));
      next[tile + j] = arith::AddFOp::create(b, next[tile + j], corr);
    }
    }
    return next;
  };
  SmallVector<Value> init(tile, f32Zeros(lanes));
  init.append(tile, f32(0.0f));
  // A single token alternates two sets of accumulators between even and odd
  // groups: the FMA chain is what bounds generation otherwise.
  int64_t sets = tile == 1 && groups >= 2 ? 2 : 1;
  SmallVector<Value> loopInit;
  for (int64_t i = 0; i < sets; ++i)
    loopInit.append(init);
  auto loop = scf::ForOp::create(b, idx(0), idx(groups / sets * sets),
                                 idx(sets), loopInit);
  SmallVector<Value> acc;
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next;
    for (int64_t i = 0; i < sets; ++i)
      next.append(step(add(loop.getInductionVar(), idx(i)),
                       loop.getRegionIterArgs().slice(i * 2 * tile, 2 * tile)));
    scf::YieldOp::create(b, next);
  }
  acc.assign(loop.getResults().begin(), loop.getResults().begin() + 2 * tile);
  if (sets == 2) {
    if (groups % 2)
      acc = step(idx(groups - 1), acc);
    for (int64_t i = 0; i < 2 * tile; ++i)
      acc[i] = arith::AddFOp::create(b, acc[i], loop.getResult(2 * tile + i));
  }
  for (int64_t j = 0; j < tile; ++j) {
    Value s = vector::ReductionOp::create(b, vector::CombiningKind::ADD, acc[j],
                                          arith::FastMathFlags::reassoc);
    s = arith::AddFOp::create(b, s, acc[tile + j]);
    memref::StoreOp::create(b, s, y, ValueRange{add(mul(add(t0, idx(j)), idx(N)), r)});
  }
}

void KernelEmitter::emitBlockFactors(Value t0, Value count) {
  int64_t blocks = (K + 31) / 32;
  auto tokens = scf::ForOp::create(b, idx(0), count, idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(tokens.getBody());
  Value j = tokens.getInductionVar(), t = add(t0, j);
  auto loop = scf::ForOp::create(b, idx(0), idx(blocks), idx(1));
  b.setInsertionPointToStart(loop.getBody());
  Value blk = loop.getInductionVar();
  Value at = add(mul(t, idx(blocks)), blk);
  Value sum = add(memref::LoadOp::create(b, xs, ValueRange{mul(at, idx(2))}),
                  memref::LoadOp::create(b, xs, ValueRange{add(mul(at, idx(2)), idx(1))}));
  Value factor;
  if (hasMinimum()) {
    Value dx = loadDx(t, mul(blk, idx(32)));
    factor = arith::MulFOp::create(b, dx, arith::SIToFPOp::create(b, b.getF32Type(), sum));
  } else {
    factor = mul(sum, arith::ConstantIntOp::create(b, b.getI32Type(), -L.zero));
  }
  memref::StoreOp::create(b, factor, blockFactors, ValueRange{add(mul(j, idx(blocks)), blk)});
}

/// Decodes the blockRows() rows from r for the block kernels: each row's
/// groups of 32 to unsigned codes, the rows x 8 matrix of 4-byte chunks
/// transposed, so chunk q of all rows is one vector (lane i: row i), stored
/// per group in decodedCodes; the rows' scales (and minimums) per group as
/// vectors in decodedScales. Once per call and row block: every tile of
/// tokens reads it (decoding was a third of the work when tiles repeated it).
void KernelEmitter::emitDecodeRowBlock(Value r) {
  const int64_t R = blockRows();
  int64_t S = L.subBlocks, groups = (K + 32 * S - 1) / (32 * S);
  auto f32s = VectorType::get({R}, b.getF32Type());
  auto i8s = VectorType::get({32}, b.getI8Type());       // one row's group
  auto chunkType = VectorType::get({8}, b.getI32Type()); // its 4-byte chunks
  auto laneBytes = VectorType::get({4 * R}, b.getI8Type());
  SmallVector<Value> rowBase;
  for (int64_t i = 0; i < R; ++i)
    rowBase.push_back(rowBaseOf(b, L, add(r, idx(i)), K));
  auto loop = scf::ForOp::create(b, idx(0), idx(groups), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value g = loop.getInductionVar();
  SmallVector<Value> blockBases;
  for (int64_t i = 0; i < R; ++i)
    blockBases.push_back(blockBaseOf(rowBase[i], g));
  // K-quants: every row's eight group scales (and minimums) as lanes,
  // transposed into one vector of the rows' values per group.
  SmallVector<Value> subScales, subMins;
  if (L.subScaled()) {
    SmallVector<Value> rowScales, rowMins;
    for (Value base : blockBases) {
      blockScale(base, 0);
      auto [d, m] = subScaleCache[base.getAsOpaquePointer()];
      rowScales.push_back(d);
      if (m)
        rowMins.push_back(m);
    }
    subScales = transpose(rowScales);
    if (!rowMins.empty())
      subMins = transpose(rowMins);
  }
  // Nibble formats transpose the packed bytes, not the decoded codes: a
  // Q4_0 block's 16 bytes hold its low and high halves, and Q4_K's 32
  // bytes from 16 + 32p the groups 2p (low nibbles) and 2p + 1 (high).
  // Half the shuffles, then a mask (and a shift) per chunk.
  int64_t packedWords = L.nibbleBlocks() ? 4 : L.pairedNibbles() ? 8 : 0;
  SmallVector<Value> packed;
  for (int sub = 0; sub < S; ++sub) {
    SmallVector<Value> chunks, scales, mins;
    for (int64_t i = 0; i < R; ++i) {
      Value blockBase = blockBases[i];
      if (!L.subScaled()) {
        auto [d, m] = blockScale(blockBase, sub);
        scales.push_back(d);
        if (m)
          mins.push_back(m);
      }
      if (packedWords && sub % 2 == 0)
        chunks.push_back(vector::BitCastOp::create(
            b, VectorType::get({packedWords}, b.getI32Type()),
            vector::LoadOp::create(
                b, VectorType::get({4 * packedWords}, b.getI8Type()), w,
                ValueRange{add(blockBase, idx(L.codes[sub][0].offset))})));
      else if (!packedWords)
        chunks.push_back(vector::BitCastOp::create(
            b, chunkType, arith::TruncIOp::create(b, i8s, codes(blockBase, sub))));
    }
    if (!chunks.empty() && packedWords)
      packed = transpose(chunks);
    SmallVector<Value> W;
    if (packedWords) {
      // Q4_0: chunks 0..3 low nibbles, 4..7 high; Q4_K: odd groups high.
      for (int64_t q = 0; q < 8; ++q) {
        Value v = packed[q % packedWords];
        if (packedWords == 4 ? q >= 4 : sub % 2 == 1)
          v = arith::ShRUIOp::create(b, v, i32Splat(R, 4));
        W.push_back(vector::BitCastOp::create(
            b, laneBytes, arith::AndIOp::create(b, v, i32Splat(R, 0x0f0f0f0f))));
      }
    } else {
      for (Value chunk : transpose(chunks))
        W.push_back(vector::BitCastOp::create(b, laneBytes, chunk));
    }
    Value group = add(mul(g, idx(S)), idx(sub));
    for (int64_t q = 0; q < 8; ++q)
      vector::StoreOp::create(b, W[q], decodedCodes,
                              ValueRange{mul(add(mul(group, idx(8)), idx(q)), idx(4 * R))});
    Value dvec = L.subScaled() ? subScales[sub]
                           : vector::FromElementsOp::create(b, f32s, scales).getResult();
    Value mvec = !subMins.empty() ? subMins[sub]
                 : mins.empty() ? Value()
                                : vector::FromElementsOp::create(b, f32s, mins).getResult();
    vector::StoreOp::create(b, dvec, decodedScales, ValueRange{mul(group, idx(2 * R))});
    if (mvec)
      vector::StoreOp::create(b, mvec, decodedScales,
                              ValueRange{add(mul(group, idx(2 * R)), idx(R))});
  }
}

/// A tile of tokens against the decoded row block at r (emitDecodeRowBlock):
/// chunk q of all rows meets four bytes of x broadcast in one vpdpbusd and
/// the lanes of the result are the rows' sums: no horizontal sums, scales as
/// vectors, and the zero point enters as the accumulator's start value,
/// -zero * sum(x). Token t0 + j's factors are row f0 + j of blockFactors.
void KernelEmitter::emitRowBlockQ8(Value r, Value t0, Value f0, int64_t tile) {
  const int64_t R = blockRows();
  int64_t Kp = (K + 31) / 32 * 32, blocks = Kp / 32;
  auto f32s = VectorType::get({R}, b.getF32Type());
  auto i32s = VectorType::get({R}, b.getI32Type());
  auto laneBytes = VectorType::get({4 * R}, b.getI8Type());
  SmallVector<Value> init(tile, f32Zeros(R));
  auto loop = scf::ForOp::create(b, idx(0), idx(blocks), idx(1), init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value group = loop.getInductionVar();
    SmallVector<Value> next(loop.getRegionIterArgs());
    SmallVector<Value> W;
    for (int64_t q = 0; q < 8; ++q)
      W.push_back(vector::LoadOp::create(
          b, laneBytes, decodedCodes,
          ValueRange{mul(add(mul(group, idx(8)), idx(q)), idx(4 * R))}));
    Value dvec = vector::LoadOp::create(b, f32s, decodedScales,
                                        ValueRange{mul(group, idx(2 * R))});
    Value mvec = hasMinimum() ? vector::LoadOp::create(
                                    b, f32s, decodedScales,
                                    ValueRange{add(mul(group, idx(2 * R)), idx(R))})
                                    .getResult()
                              : Value();
    Value k0 = mul(group, idx(32));
    for (int64_t j = 0; j < tile; ++j) {
      Value t = add(t0, idx(j));
      Value base = add(mul(t, idx(Kp)), k0);
      Value factorAt = add(mul(add(f0, idx(j)), idx(blocks)), group);
      Value acc =
          mvec ? i32Splat(R, 0)
               : vector::BroadcastOp::create(
                     b, i32s, memref::LoadOp::create(b, blockFactors, ValueRange{factorAt}))
                     .getResult();
      for (int64_t q = 0; q < 8; ++q) {
        Value four = vector::LoadOp::create(b, VectorType::get({4}, b.getI8Type()),
                                            xq, ValueRange{add(base, idx(4 * q))});
        Value word = vector::ExtractOp::create(
            b, vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), four),
            ArrayRef<int64_t>{0});
        Value x4 = vector::BitCastOp::create(b, laneBytes,
                                             vector::BroadcastOp::create(b, i32s, word));
        acc = dotBytesInto(acc, W[q], x4);
      }
      Value dx = loadDx(t, k0);
      Value scale = arith::MulFOp::create(b, dvec, vector::BroadcastOp::create(b, f32s, dx));
      Value out = vector::FMAOp::create(b, arith::SIToFPOp::create(b, f32s, acc), scale,
                                        next[j]);
      if (mvec) {
        Value xsum = memref::LoadOp::create(b, blockFactors, ValueRange{factorAt});
        out = vector::FMAOp::create(b, mvec,
                                    vector::BroadcastOp::create(b, f32s, xsum), out);
      }
      next[j] = out;
    }
    scf::YieldOp::create(b, next);
  }
  for (int64_t j = 0; j < tile; ++j)
    vector::StoreOp::create(b, loop.getResult(j), y,
                            ValueRange{add(mul(add(t0, idx(j)), idx(N)), r)});
}

/// Q4_K code vector v (low / high nibbles of code bytes 0..63 / 64..127):
/// the group of its half h (bytes 32h.. of the 64).
static int64_t kGroup(int64_t v, int64_t h) { return v / 2 * 4 + 2 * h + v % 2; }

std::optional<SuperPlan> KernelEmitter::superPlan(int64_t tile) const {
  if (!q8())
    return std::nullopt;
  int64_t V = vectorBytes(), G4 = V / 4;
  SuperPlan p;
  p.initA.assign(1, {});
  p.initB.assign(1, {});
  p.dxOf.assign(1, {});
  if (L.kind == BlockLayout::Trits && L.depth == 1 && L.group == 16 &&
      L.blockBytes == 4 && K % (4 * V) == 0) {
    // Groups of 16 in 4 bytes, V / 4 of them: byte b holds trits
    // 5 * (b % 4) .. + 4 of group b / 4, the first scaleTrits of a group
    // being its scale index. Code vector d is digit d of every byte, the
    // codes u = w + 1 (the start -sum(x) takes the 1 off).
    p.weights = 4 * V;
    p.bytes = V;
    for (int64_t d = 0; d < 5; ++d) {
      p.actLanes.emplace_back();
      for (int64_t byte = 0; byte < V; ++byte) {
        int64_t weight = byte % 4 * 5 + d - L.scaleTrits;
        p.actLanes.back().push_back(weight >= 0 && weight < 16 ? byte / 4 * 16 + weight
                                                               : -1);
      }
      p.accOf.push_back(0);
    }
    for (int64_t g = 0; g < G4; ++g) {
      p.initA[0].push_back(g);
      p.initB[0].push_back(-1);
      p.dxOf[0].push_back(g / 2);
    }
    p.initFactor = -1;
    return p;
  }
  // Q4_0 and Q4_K take superblocks for one token (AVX-512) only: their
  // token tiles keep the 16-row kernels, whose float work 16 rows share
  // (measured slower as superblocks).
  if (V == 64 && tile == 1 && L.nibbleBlocks() && K % 128 == 0) {
    // Four blocks: lanes 16k..16k+15 of the code vectors are block k's
    // 16 bytes, low nibbles (weights 0..15) then high (16..31); i32 lanes
    // 4k..4k+3 are block k's, started at -8 * sum(x).
    p.weights = 128;
    p.bytes = 4 * L.blockBytes;
    p.actLanes.assign(2, {});
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t l = 0; l < 64; ++l)
        p.actLanes[h].push_back(l / 16 * 32 + 16 * h + l % 16);
    p.accOf = {0, 0};
    for (int64_t l = 0; l < 16; ++l) {
      p.initA[0].push_back(l % 4 ? -1 : l / 4 * 2);
      p.initB[0].push_back(l % 4 ? -1 : l / 4 * 2 + 1);
      p.dxOf[0].push_back(l / 4);
    }
    p.initFactor = -L.zero;
    return p;
  }
  if (V == 64 && tile == 1 && actBlock == 256) {
    // One Q4_K block: 64 code bytes hold groups (2h, 2h+1) of bytes 32h..;
    // code vector v is the low (even v) or high nibbles of the first or
    // second 64 bytes, so its two halves are groups kGroup(v, 0 / 1).
    p.weights = 256;
    p.bytes = 144;
    p.accs = 4;
    for (int64_t v = 0; v < 4; ++v) {
      p.actLanes.emplace_back();
      for (int64_t l = 0; l < 64; ++l)
        p.actLanes.back().push_back(32 * kGroup(v, l / 32) + l % 32);
      p.accOf.push_back(v);
    }
    p.intScales = true;
    return p;
  }
  return std::nullopt;
}

KernelEmitter::SuperCodes KernelEmitter::decodeSuper(const SuperPlan &plan,
                                                     Value at) {
  int64_t V = vectorBytes(), G4 = V / 4;
  auto i8s = VectorType::get({V}, b.getI8Type());
  auto f32s = VectorType::get({G4}, b.getF32Type());
  auto bytesSplat = [&](int8_t v) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(i8s, v)).getResult();
  };
  SuperCodes c;
  if (L.kind == BlockLayout::Trits) {
    // The V bytes as 16-bit lanes, even and odd bytes apart, give their five
    // base-3 digits by repeated division by 3: floor(v / 3) = v * 21846 >> 16
    // for v < 2^15, by pmulhuw (LLVM widens a generic multiply-high to
    // 32-bit lanes).
    auto i16s = VectorType::get({V / 2}, b.getI16Type());
    auto i32s = VectorType::get({G4}, b.getI32Type());
    auto c16 = [&](int16_t v) {
      return arith::ConstantOp::create(b, DenseElementsAttr::get(i16s, v)).getResult();
    };
    auto third = [&](Value v) {
      return LLVM::CallIntrinsicOp::create(
                 b, i16s,
                 b.getStringAttr(V == 64 ? "llvm.x86.avx512.pmulhu.w.512"
                                         : "llvm.x86.avx2.pmulhu.w"),
                 ValueRange{v, c16(21846)})
          .getResult(0);
    };
    Value bytes = vector::LoadOp::create(b, i8s, w, ValueRange{at});
    Value scaleIndex; // the codebook index in the low bits of each i32 lane
    if (target == Target::Avx512Vbmi) {
      // Table lookups: vpermi2b indexes 128 bytes by the low 7 bits, bit 7
      // picks one of two such lookups. One table gives digits 0..3 packed
      // two bits each, another digit 4. Eight tables: token tiles, short of
      // registers, read some from memory and still gain (pp128 on 2
      // threads 214 -> 260 tok/s, Llama-3.2-1B shapes).
      SmallVector<int8_t> packed, top;
      for (int v = 0; v < 256; ++v) {
        int u = v % 243;
        packed.push_back(int8_t(u % 3 | u / 3 % 3 << 2 | u / 9 % 3 << 4 | u / 27 % 3 << 6));
        top.push_back(int8_t(u / 81));
      }
      Value high = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, bytes, bytesSplat(0));
      auto lookup = [&](ArrayRef<int8_t> table) {
        Value half[2];
        for (int h = 0; h < 2; ++h) {
          auto part = [&](int q) {
            return arith::ConstantOp::create(
                b, DenseElementsAttr::get(i8s, table.slice(128 * h + 64 * q, 64)));
          };
          half[h] = LLVM::CallIntrinsicOp::create(
                        b, i8s, b.getStringAttr("llvm.x86.avx512.vpermi2var.qi.512"),
                        ValueRange{part(0), bytes, part(1)})
                        .getResult(0);
        }
        return arith::SelectOp::create(b, high, half[1], half[0]).getResult();
      };
      Value p = lookup(packed);
      for (int d = 0; d < 4; ++d) {
        Value v = d ? arith::ShRUIOp::create(b, p, bytesSplat(int8_t(2 * d))).getResult() : p;
        c.codes.push_back(d < 3 ? arith::AndIOp::create(b, v, bytesSplat(3)).getResult() : v);
      }
      c.codes.push_back(lookup(top));
      // The scale index is the first byte's low scaleTrits digits, packed
      // in the low bits of p: one vpermb (64 entries, the low six bits of
      // each byte) gives it, clamped to the codebook, in byte 0 of each
      // group's lane, where vpermi2ps reads its low five bits.
      if (scaledCodebook[0] && 2 * L.scaleTrits <= 6) {
        SmallVector<int8_t> index;
        for (int v = 0; v < 64; ++v) {
          int64_t k = 0, place = 1;
          for (int t = 0; t < L.scaleTrits; ++t, place *= 3)
            k += (v >> (2 * t) & 3) * place;
          index.push_back(int8_t(std::min<int64_t>(k, int64_t(L.codebook.size()) - 1)));
        }
        scaleIndex = vector::BitCastOp::create(
            b, i32s,
            LLVM::CallIntrinsicOp::create(
                b, i8s, b.getStringAttr("llvm.x86.avx512.permvar.qi.512"),
                ValueRange{arith::ConstantOp::create(
                               b, DenseElementsAttr::get(i8s, ArrayRef(index))),
                           p})
                .getResult(0));
      }
    } else {
      Value pairs = vector::BitCastOp::create(b, i16s, bytes);
      Value even = arith::AndIOp::create(b, pairs, c16(255));
      Value odd = arith::ShRUIOp::create(b, pairs, c16(8));
      for (int d = 0; d < 5; ++d) {
        Value de = even, dO = odd;
        if (d < 4) { // the last quotient (byte / 81 <= 2) is its own digit
          Value qe = third(even), qo = third(odd);
          de = arith::SubIOp::create(b, even, mul(qe, c16(3)));
          dO = arith::SubIOp::create(b, odd, mul(qo, c16(3)));
          even = qe;
          odd = qo;
        }
        c.codes.push_back(vector::BitCastOp::create(
            b, i8s, arith::OrIOp::create(b, de, arith::ShLIOp::create(b, dO, c16(8)))));
      }
    }
    // Group scales: byte 0 of each group mod 3^scaleTrits indexes the
    // codebook (vpermi2ps over two registers on AVX-512, else a gather).
    Value k = scaleIndex;
    if (!k) {
      k = arith::AndIOp::create(b, vector::BitCastOp::create(b, i32s, bytes),
                                i32Splat(G4, 255));
      k = arith::MinUIOp::create(
          b, arith::RemUIOp::create(b, k, i32Splat(G4, int32_t(L.scaleLevels()))),
          i32Splat(G4, int32_t(L.codebook.size()) - 1));
    }
    if (scaledCodebook[0]) {
      c.scales.push_back(LLVM::CallIntrinsicOp::create(
                             b, f32s, b.getStringAttr("llvm.x86.avx512.vpermi2var.ps.512"),
                             ValueRange{scaledCodebook[0], k, scaledCodebook[1]})
                             .getResult(0));
    } else {
      Value all = vector::ConstantMaskOp::create(
          b, VectorType::get({G4}, b.getI1Type()), ArrayRef<int64_t>{G4});
      c.scales.push_back(arith::MulFOp::create(
          b,
          vector::GatherOp::create(b, f32s, codebook, ValueRange{idx(0)}, k, all,
                                   f32Zeros(G4)),
          vector::BroadcastOp::create(b, f32s, tensorScale)));
    }
    return c;
  }
  Value mask = bytesSplat(15), four = bytesSplat(4);
  auto nibbles = [&](Value v) {
    c.codes.push_back(arith::AndIOp::create(b, v, mask));
    c.codes.push_back(arith::ShRUIOp::create(b, v, four));
  };
  if (L.intScaleSuperblocks()) {
    Value lo = vector::LoadOp::create(b, i8s, w, ValueRange{add(at, idx(L.codes[0][0].offset))});
    Value hi = vector::LoadOp::create(b, i8s, w, ValueRange{add(at, idx(L.codes[4][0].offset))});
    nibbles(lo);
    nibbles(hi);
    Value sc = packedInts(at, L.subScales), mn = packedInts(at, L.subMins);
    for (int64_t v = 0; v < 4; ++v) {
      SmallVector<int64_t> lanes;
      for (int64_t l = 0; l < 16; ++l)
        lanes.push_back(kGroup(v, l / 8));
      c.scales.push_back(vector::ShuffleOp::create(b, sc, sc, lanes));
    }
    SmallVector<int64_t> pad;
    for (int64_t l = 0; l < 16; ++l)
      pad.push_back(l < 8 ? l : 8);
    c.mins = vector::ShuffleOp::create(b, mn, i32Splat(8, 0), pad);
    c.d = loadScalar(add(at, idx(L.scaleOffset)), L.scale);
    c.dmin = loadScalar(add(at, idx(L.minOffset)), L.scale);
    return c;
  }
  // Nibble blocks (Q4_0): four blocks' 16 code bytes and f16 scales, loaded
  // block by block (a 64-byte load at an 18-byte stride would split across
  // lines).
  auto i8x16 = VectorType::get({16}, b.getI8Type());
  auto i8x2 = VectorType::get({2}, b.getI8Type());
  SmallVector<Value> codes, scales;
  for (int64_t k = 0; k < 4; ++k) {
    codes.push_back(vector::LoadOp::create(b, i8x16, w, ValueRange{add(at, idx(L.blockBytes * k + L.codes[0][0].offset))}));
    scales.push_back(vector::LoadOp::create(b, i8x2, w, ValueRange{add(at, idx(L.blockBytes * k + L.scaleOffset))}));
  }
  auto join = [&](Value l, Value r) {
    int64_t n = cast<VectorType>(l.getType()).getNumElements();
    SmallVector<int64_t> lanes;
    for (int64_t i = 0; i < 2 * n; ++i)
      lanes.push_back(i);
    return vector::ShuffleOp::create(b, l, r, lanes).getResult();
  };
  nibbles(join(join(codes[0], codes[1]), join(codes[2], codes[3])));
  Value d = arith::ExtFOp::create(
      b, VectorType::get({4}, b.getF32Type()),
      vector::BitCastOp::create(b, VectorType::get({4}, b.getF16Type()),
                                join(join(scales[0], scales[1]), join(scales[2], scales[3])))
          .getResult());
  SmallVector<int64_t> quads;
  for (int64_t l = 0; l < 16; ++l)
    quads.push_back(l / 4);
  c.scales.push_back(vector::ShuffleOp::create(b, d, d, quads));
  return c;
}

/// The tile's q8 activations rearranged for a superblock plan, per (token,
/// superblock): one activation vector per code vector, then the
/// accumulators' start values (i32 lanes) and their activation scales (f32
/// lanes), or for K-quants the sums of each 32 (i32 lanes 0..7). Built once
/// per tile, read by every row.
void KernelEmitter::emitSuperActivations(const SuperPlan &plan, Value t0,
                                         int64_t tile) {
  int64_t V = vectorBytes(), G4 = V / 4, supers = K / plan.weights;
  int64_t blocks = plan.weights / 32, sixteens = plan.weights / 16;
  auto wide = VectorType::get({plan.weights}, b.getI8Type());
  auto i8s = VectorType::get({V}, b.getI8Type());
  auto f32s = VectorType::get({G4}, b.getF32Type());
  auto zeroFor = [&](ArrayRef<int64_t> lanes, int64_t none) {
    SmallVector<int64_t> m;
    for (int64_t l : lanes)
      m.push_back(l < 0 ? none : l);
    return m;
  };
  auto tokens = scf::ForOp::create(b, idx(0), idx(tile), idx(1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(tokens.getBody());
  Value j = tokens.getInductionVar(), t = add(t0, j);
  auto sbs = scf::ForOp::create(b, idx(0), idx(supers), idx(1));
  b.setInsertionPointToStart(sbs.getBody());
  Value s = sbs.getInductionVar();
  Value slot = mul(add(mul(j, idx(supers)), s), idx(plan.slotVectors() * V));
  int64_t at = 0;
  auto store = [&](Value v) {
    if (v.getType() != i8s)
      v = vector::BitCastOp::create(b, i8s, v);
    vector::StoreOp::create(b, v, superActs, ValueRange{add(slot, idx(at++ * V))});
  };
  Value xv = vector::LoadOp::create(
      b, wide, xq, ValueRange{add(mul(t, idx(K)), mul(s, idx(plan.weights)))});
  Value zeros = arith::ConstantOp::create(b, DenseElementsAttr::get(wide, int8_t(0)));
  for (ArrayRef<int64_t> lanes : plan.actLanes)
    store(vector::ShuffleOp::create(b, xv, zeros, zeroFor(lanes, plan.weights)));
  auto sixteenType = VectorType::get({sixteens}, b.getI32Type());
  Value sums = vector::LoadOp::create(
      b, sixteenType, xs, ValueRange{add(mul(t, idx(K / 16)), mul(s, idx(sixteens)))});
  Value noSums = i32Splat(sixteens, 0);
  if (plan.intScales) {
    SmallVector<int64_t> evens, odds;
    for (int64_t l = 0; l < G4; ++l) {
      evens.push_back(l < blocks ? 2 * l : sixteens);
      odds.push_back(l < blocks ? 2 * l + 1 : sixteens);
    }
    store(add(vector::ShuffleOp::create(b, sums, noSums, evens),
              vector::ShuffleOp::create(b, sums, noSums, odds)));
    return;
  }
  if (plan.initFactor)
    for (int64_t a = 0; a < plan.accs; ++a) {
      Value v = vector::ShuffleOp::create(b, sums, noSums, zeroFor(plan.initA[a], sixteens));
      if (llvm::any_of(plan.initB[a], [](int64_t l) { return l >= 0; }))
        v = add(v, vector::ShuffleOp::create(b, sums, noSums,
                                             zeroFor(plan.initB[a], sixteens)));
      store(mul(v, i32Splat(G4, int32_t(plan.initFactor))));
    }
  Value dx = vector::LoadOp::create(
      b, VectorType::get({blocks}, b.getF32Type()), xd,
      ValueRange{add(mul(t, idx(K / 32)), mul(s, idx(blocks)))});
  for (int64_t a = 0; a < plan.accs; ++a)
    store(vector::ShuffleOp::create(b, dx, dx, plan.dxOf[a]));
}

/// One row of a superblock plan for a tile of tokens: per superblock, the
/// codes decoded once; per token, the integer dots of each accumulator (its
/// lanes are single groups), converted, times the activation scales, and
/// FMA'd with the group scales into one f32 vector per token (intScales:
/// scaled and summed as integers first).
void KernelEmitter::emitRowSuperQ8(const SuperPlan &plan, ArrayRef<Value> rows,
                                   Value t0, int64_t tile) {
  int64_t V = vectorBytes(), G4 = V / 4, supers = K / plan.weights;
  int64_t R = int64_t(rows.size());
  auto i8s = VectorType::get({V}, b.getI8Type());
  auto i32s = VectorType::get({G4}, b.getI32Type());
  auto f32s = VectorType::get({G4}, b.getF32Type());
  SmallVector<Value> rowBase;
  for (Value r : rows)
    rowBase.push_back(rowBaseOf(b, L, r, K));
  // Accumulator of (row i, token j) at i * tile + j.
  SmallVector<Value> init(R * tile, f32Zeros(G4));
  auto loop = scf::ForOp::create(b, idx(0), idx(supers), idx(1), init);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value s = loop.getInductionVar();
  SmallVector<SuperCodes> c;
  for (Value base : rowBase)
    c.push_back(decodeSuper(plan, add(base, mul(s, idx(plan.bytes)))));
  SmallVector<Value> next(loop.getRegionIterArgs());
  int64_t codeVectors = int64_t(plan.actLanes.size());
  for (int64_t j = 0; j < tile; ++j) {
    Value slot = mul(add(mul(idx(j), idx(supers)), s), idx(plan.slotVectors() * V));
    auto load = [&](VectorType type, int64_t at) -> Value {
      Value v = vector::LoadOp::create(b, i8s, superActs, ValueRange{add(slot, idx(at * V))});
      return type == i8s ? v : vector::BitCastOp::create(b, type, v).getResult();
    };
    // Each activation vector loaded serves every row.
    SmallVector<SmallVector<Value>> acc(R);
    for (int64_t a = 0; a < plan.accs; ++a) {
      Value start = plan.initFactor ? load(i32s, codeVectors + a) : i32Splat(G4, 0);
      for (int64_t i = 0; i < R; ++i)
        acc[i].push_back(start);
    }
    for (int64_t v = 0; v < codeVectors; ++v) {
      Value x = load(i8s, v);
      for (int64_t i = 0; i < R; ++i) {
        Value &a = acc[i][plan.accOf[v]];
        a = dotBytesInto(a, c[i].codes[v], x);
      }
    }
    if (plan.intScales) {
      Value bsums = load(i32s, codeVectors);
      Value dx = memref::LoadOp::create(
          b, xd, ValueRange{add(mul(add(t0, idx(j)), idx(supers)), s)});
      for (int64_t i = 0; i < R; ++i) {
        Value sum = mul(acc[i][0], c[i].scales[0]);
        for (int64_t a = 1; a < plan.accs; ++a)
          sum = add(sum, mul(acc[i][a], c[i].scales[a]));
        Value &out = next[i * tile + j];
        auto fma = [&](Value ints, Value factor) {
          out = vector::FMAOp::create(b, arith::SIToFPOp::create(b, f32s, ints),
                                      vector::BroadcastOp::create(b, f32s, factor), out);
        };
        fma(sum, arith::MulFOp::create(b, c[i].d, dx));
        fma(mul(c[i].mins, bsums),
            arith::NegFOp::create(b, arith::MulFOp::create(b, c[i].dmin, dx)));
      }
      continue;
    }
    int64_t dxAt = codeVectors + (plan.initFactor ? plan.accs : 0);
    for (int64_t a = 0; a < plan.accs; ++a) {
      Value dx = load(f32s, dxAt + a);
      for (int64_t i = 0; i < R; ++i) {
        Value sum = arith::MulFOp::create(b, arith::SIToFPOp::create(b, f32s, acc[i][a]), dx);
        next[i * tile + j] = vector::FMAOp::create(b, sum, c[i].scales[a], next[i * tile + j]);
      }
    }
  }
  scf::YieldOp::create(b, next);
  b.setInsertionPointAfter(loop);
  storeRowSums(SmallVector<Value>(loop.getResults()), rows, t0, tile);
}

func::FuncOp KernelEmitter::emit(StringRef name, StringRef key,
                                 ModuleOp module) {
  SmallVector<Type> args = q8() ? abiTypes<::qc::abi::LinearQ8>(b)
                                : abiTypes<::qc::abi::LinearF32>(b);
  auto fn = func::FuncOp::create(b, name, b.getFunctionType(args, {}));
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  fn->setAttr("qc.kernel", b.getStringAttr(key));
  Block *entry = fn.addEntryBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(entry);
  w = entry->getArgument(0);
  unsigned i = 1;
  if (q8()) {
    xq = entry->getArgument(i++);
    xd = entry->getArgument(i++);
    xs = entry->getArgument(i++);
  } else {
    x = entry->getArgument(i++);
  }
  y = entry->getArgument(i++);
  T = entry->getArgument(i++);
  Value r0 = entry->getArgument(i++), r1 = entry->getArgument(i++);
  // Constant tables as module globals, one per content (named by its
  // FNV-1a hash: the same in every run, so builds stay reproducible).
  auto table = [&](ArrayRef<float> values) -> Value {
    uint32_t hash = 2166136261u;
    for (float v : values) {
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      hash = (hash ^ bits) * 16777619u;
    }
    std::string global = "qc_table_" + std::to_string(values.size()) + "_" +
                         llvm::utohexstr(hash);
    auto type = MemRefType::get({int64_t(values.size())}, b.getF32Type());
    if (!module.lookupSymbol(global)) {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(module.getBody());
      memref::GlobalOp::create(
          b, global, b.getStringAttr("private"), type,
          DenseElementsAttr::get(RankedTensorType::get(type.getShape(), b.getF32Type()),
                                 values),
          /*constant=*/true, /*alignment=*/nullptr);
    }
    return memref::GetGlobalOp::create(b, type, global);
  };
  if (L.kind == BlockLayout::Trits) {
    tensorScale = loadScalar(idx(0), ::qc::formats::Scalar::F32);
    codebook = table(L.codebook);
  }
  if (!L.values.empty())
    valueTable = table(L.values);
  // The superblock plans of token tiles and of single tokens share one
  // activation buffer, sized for the larger.
  std::optional<SuperPlan> plans[2] = {superPlan(tokenTile()), superPlan(1)};
  int64_t actBytes = 0;
  for (int64_t i = 0; i < 2; ++i)
    if (plans[i])
      actBytes = std::max(actBytes, (i ? 1 : tokenTile()) * K / plans[i]->weights *
                                        plans[i]->slotVectors() * vectorBytes());
  if (actBytes)
    // Cache-line aligned: a vector load across two lines costs two (and
    // the stack's offset within a line varies from process to process).
    superActs = memref::AllocaOp::create(b, MemRefType::get({actBytes}, b.getI8Type()),
                                         b.getI64IntegerAttr(64));
  bool blockKernels = q8() && L.group == 32 && !plans[0] && N >= blockRows();
  if (blockKernels) {
    int64_t groups = (K + 31) / 32;
    blockFactors = memref::AllocaOp::create(
        b, MemRefType::get({kSpanTiles * tokenTile() * groups},
                           hasMinimum() ? Type(b.getF32Type()) : Type(b.getI32Type())));
    decodedCodes = memref::AllocaOp::create(
        b, MemRefType::get({groups * 8 * 4 * blockRows()}, b.getI8Type()),
        b.getI64IntegerAttr(64));
    decodedScales = memref::AllocaOp::create(
        b, MemRefType::get({groups * 2 * blockRows()}, b.getF32Type()),
        b.getI64IntegerAttr(64));
  }
  if (L.kind == BlockLayout::Trits && actBytes) {
    if (avx512() && L.codebook.size() <= 32) {
      auto f32x16 = VectorType::get({16}, b.getF32Type());
      Value ts = vector::BroadcastOp::create(b, f32x16, tensorScale);
      for (int h = 0; h < 2; ++h) {
        SmallVector<float> part(16, 0.0f);
        for (size_t e = 16 * h; e < L.codebook.size() && e < 16 * size_t(h + 1); ++e)
          part[e - 16 * h] = L.codebook[e];
        scaledCodebook[h] = arith::MulFOp::create(
            b, arith::ConstantOp::create(b, DenseElementsAttr::get(f32x16, ArrayRef(part))),
            ts);
      }
    }
  }
  // Tokens in tiles (a decoded block serves a whole tile), then the rest
  // one at a time. Tiles are the outer loop: a tile's activations stay in
  // L1 while the rows stream past (the runtime hands out row ranges sized
  // for L2).
  Value Tt = arith::MulIOp::create(
      b, arith::DivUIOp::create(b, T, idx(tokenTile())), idx(tokenTile()));
  if (blockKernels) {
    // Spans of up to kSpanTiles tiles: their factors, then per block of
    // rows one decode that every tile of the span reads; the rows past the
    // last whole block row by row.
    int64_t tile = tokenTile(), span = kSpanTiles * tile;
    Value r8 = add(r0, mul(arith::DivUIOp::create(
                               b, arith::SubIOp::create(b, r1, r0), idx(blockRows())),
                           idx(blockRows())));
    auto spans = scf::ForOp::create(b, idx(0), Tt, idx(span));
    OpBuilder::InsertionGuard outer(b);
    b.setInsertionPointToStart(spans.getBody());
    Value s0 = spans.getInductionVar();
    Value s1 = arith::MinUIOp::create(b, Tt, add(s0, idx(span)));
    emitBlockFactors(s0, arith::SubIOp::create(b, s1, s0));
    auto blocks = scf::ForOp::create(b, r0, r8, idx(blockRows()));
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(blocks.getBody());
      Value r = blocks.getInductionVar();
      emitDecodeRowBlock(r);
      auto tiles = scf::ForOp::create(b, s0, s1, idx(tile));
      b.setInsertionPointToStart(tiles.getBody());
      Value t0 = tiles.getInductionVar();
      emitRowBlockQ8(r, t0, arith::SubIOp::create(b, t0, s0), tile);
    }
    auto rest = scf::ForOp::create(b, r8, r1, idx(1));
    b.setInsertionPointToStart(rest.getBody());
    auto tiles = scf::ForOp::create(b, s0, s1, idx(tile));
    b.setInsertionPointToStart(tiles.getBody());
    emitRowTileQ8(rest.getInductionVar(), tiles.getInductionVar(), tile);
  }
  for (auto [from, to, tile] : {std::tuple{blockKernels ? Tt : idx(0), Tt, tokenTile()},
                                std::tuple{Tt, T, int64_t(1)}}) {
    auto tiles = scf::ForOp::create(b, from, to, idx(tile));
    const std::optional<SuperPlan> &plan = plans[tile == 1];
    OpBuilder::InsertionGuard outer(b);
    b.setInsertionPointToStart(tiles.getBody());
    Value first = r0;
    if (plan)
      emitSuperActivations(*plan, tiles.getInductionVar(), tile);
    // Token tiles take float rows floatTileRows() and superblock rows two
    // at a time: each activation load feeds all of them. A single token
    // reads one row at a time (two streams measured slower there).
    if (((!q8() && L.kind == BlockLayout::Float) || plan) && tile > 1) {
      int64_t step = plan ? 2 : floatTileRows();
      Value rEnd = add(r0, mul(arith::DivUIOp::create(
                                   b, arith::SubIOp::create(b, r1, r0), idx(step)),
                               idx(step)));
      auto groups = scf::ForOp::create(b, r0, rEnd, idx(step));
      {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPointToStart(groups.getBody());
        SmallVector<Value> rows;
        for (int64_t i = 0; i < step; ++i)
          rows.push_back(add(groups.getInductionVar(), idx(i)));
        if (plan)
          emitRowSuperQ8(*plan, rows, tiles.getInductionVar(), tile);
        else
          emitRowTileF32(rows, tiles.getInductionVar(), tile);
      }
      first = rEnd;
    }
    auto rows = scf::ForOp::create(b, first, r1, idx(1));
    b.setInsertionPointToStart(rows.getBody());
    if (plan)
      emitRowSuperQ8(*plan, {rows.getInductionVar()}, tiles.getInductionVar(), tile);
    else if (q8())
      emitRowTileQ8(rows.getInductionVar(), tiles.getInductionVar(), tile);
    else
      emitRowTileF32({rows.getInductionVar()}, tiles.getInductionVar(), tile);
  }
  func::ReturnOp::create(b);
  return fn;
}

/// The codec name of a weight type: a qtensor's format or a float tensor's
/// element type.
std::string formatOf(Type type) {
  if (auto q = dyn_cast<QTensorType>(type))
    return q.getFormat().getCodec()->name();
  Type e = cast<RankedTensorType>(type).getElementType();
  return e.isF32() ? "F32" : e.isF16() ? "F16" : "BF16";
}

using ::qc::abi::quantizeKey;

/// quantizeKey(block, K) (x, codes, scales, sums, t0, t1): rows t0..t1-1
/// of x (T x K, f32) as the q8 kernels read their activations: per block
/// (a short last block of 32 zero-padded) the codes and scale of
/// emitQ8Codes, and the sums of each 16 codes.
void emitQuantizeQ8(ImplicitLocOpBuilder &b, int64_t K, int64_t B, StringRef name) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto fn = func::FuncOp::create(
      b, name, b.getFunctionType(abiTypes<::qc::abi::QuantizeQ8>(b), {}));
  fn->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  fn->setAttr("qc.kernel", b.getStringAttr(quantizeKey(B, K)));
  Block *entry = fn.addEntryBlock();
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(entry);
  Value x = entry->getArgument(0), codes = entry->getArgument(1),
        scales = entry->getArgument(2), sums = entry->getArgument(3);
  auto idx = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, v); };
  auto add = [&](Value a, Value c) -> Value { return arith::AddIOp::create(b, a, c); };
  auto mul = [&](Value a, Value c) -> Value { return arith::MulIOp::create(b, a, c); };
  auto f32s = VectorType::get({B}, f32);
  int64_t blocks = (K + B - 1) / B, tail = K % B;
  auto tokens = scf::ForOp::create(b, entry->getArgument(4), entry->getArgument(5), idx(1));
  b.setInsertionPointToStart(tokens.getBody());
  Value t = tokens.getInductionVar();
  auto block = [&](Value blk, Value mask) {
    Value at = add(mul(t, idx(K)), mul(blk, idx(B)));
    Value v = mask ? vector::MaskedLoadOp::create(
                         b, f32s, x, ValueRange{at}, mask,
                         arith::ConstantOp::create(b, DenseElementsAttr::get(f32s, 0.0f)))
                         .getResult()
                   : vector::LoadOp::create(b, f32s, x, ValueRange{at}).getResult();
    auto [q, d] = emitQ8Codes(b, v);
    Value slot = add(mul(t, idx(blocks)), blk);
    vector::StoreOp::create(b, q, codes, ValueRange{mul(slot, idx(B))});
    memref::StoreOp::create(b, d, scales, ValueRange{slot});
    Value wide = arith::ExtSIOp::create(b, VectorType::get({B}, i32), q);
    for (int64_t h = 0; h < B / 16; ++h) {
      Value half = vector::ExtractStridedSliceOp::create(b, wide, ArrayRef<int64_t>{16 * h},
                                                         ArrayRef<int64_t>{16},
                                                         ArrayRef<int64_t>{1});
      memref::StoreOp::create(
          b, vector::ReductionOp::create(b, vector::CombiningKind::ADD, half), sums,
          ValueRange{add(mul(slot, idx(B / 16)), idx(h))});
    }
  };
  auto full = scf::ForOp::create(b, idx(0), idx(K / B), idx(1));
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(full.getBody());
    block(full.getInductionVar(), Value());
  }
  if (tail)
    block(idx(K / B), vector::ConstantMaskOp::create(
                          b, VectorType::get({B}, b.getI1Type()), ArrayRef<int64_t>{tail}));
  b.setInsertionPointAfter(tokens);
  func::ReturnOp::create(b);
}

struct QCLowerToCPUPass
    : mlir::qc::impl::QCLowerToCPUBase<QCLowerToCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<Target> tgt = parseTarget(target);
    if (failed(tgt)) {
      module.emitError("unknown target '") << target
          << "' (native, avx512vbmi, avx512vnni, avxvnni, avx2 or generic)";
      return signalPassFailure();
    }
    // Every (format, rows, cols) a product reads, in program order.
    struct Use {
      std::string format;
      int64_t rows, cols;
      Operation *op;
    };
    std::vector<Use> uses;
    module.walk([&](Operation *op) {
      Value weight;
      if (auto l = dyn_cast<LinearOp>(op))
        weight = l.getWeight();
      else if (auto l = dyn_cast<LogitsOp>(op))
        weight = l.getWeight();
      else
        return;
      ArrayRef<int64_t> shape =
          isa<QTensorType>(weight.getType())
              ? cast<QTensorType>(weight.getType()).getShape()
              : cast<RankedTensorType>(weight.getType()).getShape();
      uses.push_back({formatOf(weight.getType()), shape[0], shape[1], op});
    });
    // The graph functions: every function that is not already a kernel.
    std::vector<func::FuncOp> graphs;
    for (func::FuncOp f : module.getOps<func::FuncOp>())
      if (!f->hasAttr("qc.kernel"))
        graphs.push_back(f);
    ImplicitLocOpBuilder b(module.getLoc(), module.getContext());
    b.setInsertionPointToEnd(module.getBody());
    std::set<std::string> done;
    std::set<std::pair<int64_t, int64_t>> quantizations; // (block, K)
    for (const Use &u : uses) {
      std::string key = ::qc::abi::linearKey(u.format, u.rows, u.cols);
      if (!done.insert(key).second)
        continue;
      std::string why;
      BlockLayout layout = ::qc::cpu::describeBlockLayout(u.format, why);
      if (!why.empty()) {
        u.op->emitError("qc-lower-to-cpu: ") << why;
        return signalPassFailure();
      }
      // Integer products take groups of 16 or 32 plain codes (value tables
      // go through f32 for now). AVX2's pmaddubsw saturates at 2^15: codes
      // must stay below 128 (8-bit fields keep f32 activations there).
      bool q8 = *tgt != Target::Generic && layout.kind != BlockLayout::Float &&
                (layout.group == 16 || layout.group == 32) && layout.values.empty() &&
                (*tgt != Target::Avx2 || layout.kind == BlockLayout::Trits ||
                 layout.bits < 8);
      // Integer-scale superblocks (Q4_K) on AVX-512 take one activation
      // scale per 256 (llama.cpp's Q8_K) and sum their groups in integers.
      bool avx512 = *tgt == Target::Avx512Vnni || *tgt == Target::Avx512Vbmi;
      int64_t actBlock = !q8 ? 0
                         : avx512 && layout.intScaleSuperblocks() && u.cols % 256 == 0
                             ? 256
                             : 32;
      std::string name = "qc_linear_" + std::to_string(done.size() - 1);
      b.setLoc(u.op->getLoc());
      KernelEmitter(b, layout, u.rows, u.cols, *tgt, actBlock)
          .emit(name, !q8 ? key : key + ::qc::abi::q8Suffix(actBlock), module);
      if (q8)
        quantizations.insert({actBlock, u.cols});
    }
    // The activation quantization every q8 kernel's input needs.
    for (auto [block, K] : quantizations) {
      std::string name = "qc_" + quantizeKey(block, K);
      std::replace(name.begin(), name.end(), ':', '_');
      emitQuantizeQ8(b, K, block, name);
    }
    // The runtime runs the graph through the kernels.
    for (func::FuncOp f : graphs)
      f.erase();
  }
};

} // namespace
