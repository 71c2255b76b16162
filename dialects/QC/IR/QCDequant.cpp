//===- QCDequant.cpp - IR that dequantizes packed bytes -------------------===//
//
// The default buildDequant of every format: a `tensor.generate` whose body
// computes one weight from the packed bytes by the codec's Layout, written
// as arith/math ops. Per-weight byte positions and shifts, sub-block fields
// and value tables become constant tensors indexed by the position in the
// block. Later lowerings vectorise it; here it is the plain, checkable
// definition, for any format without a line of its own.
//
//===----------------------------------------------------------------------===//
#include "dialects/QC/IR/QCDialect.h"
#include "qc/Formats/Layout.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::qc;
namespace fmt = ::qc::formats;

namespace {

/// Builds scalar reads of a 1-D i8 byte tensor inside a generate body.
class ByteReader {
public:
  ByteReader(OpBuilder &b, Location loc, Value bytes, int64_t lastByte)
      : b(b), loc(loc), bytes(bytes), lastByte(lastByte) {}

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value toF32(Value i) {
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), i);
  }
  Value toIndex(Value i) {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(), i);
  }

  /// Unsigned byte at `offset` (an index), as i32.
  Value u8(Value offset) {
    Value v = tensor::ExtractOp::create(b, loc, bytes, ValueRange{offset});
    return arith::ExtUIOp::create(b, loc, b.getI32Type(), v);
  }
  /// Little-endian unsigned integer of `n` bytes at `offset`, as i32.
  Value uint(Value offset, int n) {
    Value v = u8(offset);
    for (int i = 1; i < n; ++i) {
      Value hi = u8(add(offset, index(i)));
      v = arith::OrIOp::create(
          b, loc, v, arith::ShLIOp::create(b, loc, hi, i32(8 * i)));
    }
    return v;
  }
  /// A stored scalar at `offset`, as f32.
  Value scalar(Value offset, fmt::Scalar type) {
    switch (type) {
    case fmt::Scalar::F32:
      return arith::BitcastOp::create(b, loc, b.getF32Type(), uint(offset, 4));
    case fmt::Scalar::E8M0: {
      // 2^(e - 127) as f32 bits e << 23; e = 0 is the subnormal 2^-127.
      Value e = u8(offset);
      Value isZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, e, i32(0));
      Value bits = arith::SelectOp::create(
          b, loc, isZero, i32(0x00400000), arith::ShLIOp::create(b, loc, e, i32(23)));
      return arith::BitcastOp::create(b, loc, b.getF32Type(), bits);
    }
    case fmt::Scalar::F16:
    case fmt::Scalar::BF16: {
      Value bits = arith::TruncIOp::create(b, loc, b.getI16Type(), uint(offset, 2));
      Type narrow = type == fmt::Scalar::F16 ? Type(b.getF16Type())
                                             : Type(b.getBF16Type());
      Value v = arith::BitcastOp::create(b, loc, narrow, bits);
      return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
    }
    }
    return {};
  }
  /// Element `at` of a constant i32 table.
  Value lookup(ArrayRef<int32_t> table, Value at) {
    auto type = RankedTensorType::get({int64_t(table.size())}, b.getI32Type());
    Value t = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, table));
    return tensor::ExtractOp::create(b, loc, t, ValueRange{at});
  }
  /// Element `at` of a constant f32 table.
  Value lookup(ArrayRef<float> table, Value at) {
    auto type = RankedTensorType::get({int64_t(table.size())}, b.getF32Type());
    Value t = arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, table));
    return tensor::ExtractOp::create(b, loc, t, ValueRange{at});
  }
  /// Element `e` (an index) of a PackedInts of the block at `base`, as i32
  /// with its bias applied. A piece whose bits may reach into the next
  /// byte reads two, the second clamped to the tensor's last byte.
  Value packed(const fmt::PackedInts &ints, Value base, Value e) {
    Value u = i32(0);
    for (const fmt::BitPiece &p : ints.pieces) {
      SmallVector<int32_t> byteOf(p.byteOf.begin(), p.byteOf.end());
      SmallVector<int32_t> shift(p.shift.begin(), p.shift.end());
      Value at = add(base, toIndex(lookup(byteOf, e)));
      Value word = u8(at);
      if (p.spansBytes()) {
        Value next = arith::MinUIOp::create(b, loc, add(at, index(1)), index(lastByte));
        word = arith::OrIOp::create(b, loc, word,
                                    arith::ShLIOp::create(b, loc, u8(next), i32(8)));
      }
      Value v = arith::AndIOp::create(
          b, loc, arith::ShRUIOp::create(b, loc, word, lookup(shift, e)),
          i32((1 << p.bits) - 1));
      u = arith::OrIOp::create(b, loc, u,
                               arith::ShLIOp::create(b, loc, v, i32(p.position)));
    }
    if (ints.flip)
      u = arith::XOrIOp::create(b, loc, u, i32(ints.flip));
    return arith::SubIOp::create(b, loc, u, i32(ints.bias));
  }

  OpBuilder &b;
  Location loc;
  Value bytes;
  int64_t lastByte;
};

/// Trit t (an index) of the block at `base`: byte t / 5, digit t % 5.
Value trit(ByteReader &r, Value base, Value t) {
  Value byte = r.u8(r.add(base, r.div(t, r.index(5))));
  Value digit = arith::IndexCastOp::create(r.b, r.loc, r.b.getI32Type(),
                                           r.rem(t, r.index(5)));
  Value pow = math::IPowIOp::create(r.b, r.loc, r.i32(3), digit);
  return arith::RemUIOp::create(r.b, r.loc, r.div(byte, pow), r.i32(3));
}

/// One weight: `base` is its block's byte offset, `e` its index there.
Value decodeWeight(ByteReader &r, const fmt::Layout &L, Value base, Value e) {
  if (L.kind == fmt::Layout::Float)
    return r.scalar(base, L.element);
  if (L.kind == fmt::Layout::Trits) {
    Value k = r.i32(0), u = r.i32(0);
    for (int t = 0, pow = 1; t < L.scaleTrits; ++t, pow *= 3)
      k = r.add(k, r.mul(trit(r, base, r.index(t)), r.i32(pow)));
    Value first = r.add(r.index(L.scaleTrits), r.mul(e, r.index(L.depth)));
    for (int t = 0, pow = 1; t < L.depth; ++t, pow *= 3)
      u = r.add(u, r.mul(trit(r, base, r.add(first, r.index(t))), r.i32(pow)));
    k = arith::MinUIOp::create(r.b, r.loc, k, r.i32(int64_t(L.codebook.size()) - 1));
    Value d = r.fmul(r.scalar(r.index(0), fmt::Scalar::F32),
                     r.lookup(ArrayRef<float>(L.codebook), r.toIndex(k)));
    return r.fmul(d, r.toF32(arith::SubIOp::create(r.b, r.loc, u, r.i32(L.zero))));
  }
  Value d = r.scalar(r.add(base, r.index(L.scaleOffset)), L.scaleType);
  Value s = r.div(e, r.index(L.groupWeights()));
  if (!L.subScales.empty())
    d = r.fmul(d, r.toF32(r.packed(L.subScales, base, s)));
  Value u = r.packed(L.codes, base, e);
  Value v = L.values.empty()
                ? r.toF32(arith::SubIOp::create(r.b, r.loc, u, r.i32(L.zero)))
                : r.lookup(ArrayRef<float>(L.values), r.toIndex(u));
  Value w = r.fmul(d, v);
  if (L.minOffset < 0)
    return w;
  Value m = r.scalar(r.add(base, r.index(L.minOffset)), L.scaleType);
  if (!L.subMins.empty())
    m = r.fmul(m, r.toF32(r.packed(L.subMins, base, s)));
  return L.minSign < 0 ? arith::SubFOp::create(r.b, r.loc, w, m).getResult()
                       : arith::AddFOp::create(r.b, r.loc, w, m).getResult();
}

} // namespace

FailureOr<Value> mlir::qc::detail::buildDequantFromLayout(
    const fmt::Codec &codec, OpBuilder &builder, Location loc, Value packed,
    RankedTensorType resultType) {
  fmt::Layout L = codec.layout();
  ArrayRef<int64_t> shape = resultType.getShape();
  int64_t cols = shape.back();
  auto gen = tensor::GenerateOp::create(
      builder, loc, resultType, ValueRange{},
      [&](OpBuilder &b, Location l, ValueRange ivs) {
        ByteReader r(b, l, packed,
                     codec.packedBytes(resultType.getNumElements() / cols, cols) - 1);
        // Leading dims flatten into one row index.
        Value row = r.index(0);
        for (size_t d = 0; d + 1 < shape.size(); ++d)
          row = r.add(r.mul(row, r.index(shape[d])), ivs[d]);
        Value col = ivs.back();
        Value bs = r.index(L.blockWeights);
        Value base = r.add(r.index(L.headerBytes),
                           r.add(r.mul(row, r.index(L.rowBytes(cols))),
                                 r.mul(r.div(col, bs), r.index(L.blockBytes))));
        tensor::YieldOp::create(b, l, decodeWeight(r, L, base, r.rem(col, bs)));
      });
  return gen.getResult();
}
