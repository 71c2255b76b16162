//===- DecodeBlocks.cpp - Codes, scales and weights by layout -------------===//
#include "lib/Conversion/QCToCPU/KernelEmitter.h"

namespace mlir::qc::cpu {

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
      identity = p.byteOf[i] == i;
    Value lo = identity ? bytes
                        : vector::ShuffleOp::create(b, bytes, bytes, p.byteOf)
                              .getResult();
    u = arith::ExtUIOp::create(b, i16s, lo);
    if (p.spansBytes()) {
      SmallVector<int64_t> next;
      for (int64_t i : p.byteOf)
        next.push_back(std::min(i + 1, p.bytes - 1));
      Value hi = arith::ExtUIOp::create(
          b, i16s, vector::ShuffleOp::create(b, bytes, bytes, next));
      u = arith::OrIOp::create(b, u, arith::ShLIOp::create(b, hi, splatLike(hi, 8)));
    }
    if (llvm::any_of(p.shift, [](int64_t s) { return s != 0; }))
      u = arith::ShRUIOp::create(b, u, i16Vector(p.shift));
    if (p.bits < 8 || p.spansBytes())
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

} // namespace mlir::qc::cpu
