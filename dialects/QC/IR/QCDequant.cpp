//===- QCDequant.cpp - IR that dequantizes packed bytes -------------------===//
//
// Each format's buildDequant hook emits a `tensor.generate` whose body
// computes one weight from the packed bytes: the layout arithmetic of the
// format's codec, written as arith/math ops. Later lowerings vectorise it;
// here it is the plain, checkable definition.
//
//===----------------------------------------------------------------------===//
#include "dialects/QC/IR/QCDialect.h"
#include "qc/Formats/GGML.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::qc;
namespace fmt = ::qc::formats;

namespace {

/// Builds scalar reads of a 1-D i8 byte tensor inside a generate body.
class ByteReader {
public:
  ByteReader(OpBuilder &b, Location loc, Value bytes)
      : b(b), loc(loc), bytes(bytes) {}

  Value index(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value i32(int64_t v) {
    return arith::ConstantIntOp::create(b, loc, b.getI32Type(), v);
  }
  Value f32(double v) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(float(v)));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, Value y) { return arith::MulIOp::create(b, loc, x, y); }
  Value div(Value x, Value y) { return arith::DivUIOp::create(b, loc, x, y); }
  Value rem(Value x, Value y) { return arith::RemUIOp::create(b, loc, x, y); }
  Value fmul(Value x, Value y) { return arith::MulFOp::create(b, loc, x, y); }
  Value fadd(Value x, Value y) { return arith::AddFOp::create(b, loc, x, y); }
  Value toF32(Value i) {
    return arith::SIToFPOp::create(b, loc, b.getF32Type(), i);
  }
  Value toI32(Value idx) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), idx);
  }

  /// Unsigned byte at `offset` (an index), as i32.
  Value u8(Value offset) {
    Value v = tensor::ExtractOp::create(b, loc, bytes, ValueRange{offset});
    return arith::ExtUIOp::create(b, loc, b.getI32Type(), v);
  }
  /// Signed byte at `offset`, as i32.
  Value s8(Value offset) {
    Value v = tensor::ExtractOp::create(b, loc, bytes, ValueRange{offset});
    return arith::ExtSIOp::create(b, loc, b.getI32Type(), v);
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
  /// A stored scale (f16, bf16 or f32) at `offset`, as f32.
  Value scale(Value offset, fmt::ScaleType type) {
    if (type == fmt::ScaleType::F32)
      return arith::BitcastOp::create(b, loc, b.getF32Type(), uint(offset, 4));
    Value bits = arith::TruncIOp::create(b, loc, b.getI16Type(), uint(offset, 2));
    Type narrow = type == fmt::ScaleType::F16 ? Type(b.getF16Type())
                                              : Type(b.getBF16Type());
    Value v = arith::BitcastOp::create(b, loc, narrow, bits);
    return arith::ExtFOp::create(b, loc, b.getF32Type(), v);
  }

  OpBuilder &b;
  Location loc;
  Value bytes;
};

/// Emits `tensor.generate` over `resultType`, calling `body(reader, row,
/// col)` for each element of the [rows x cols] view of the tensor.
Value generate(OpBuilder &builder, Location loc, Value packed,
               RankedTensorType resultType,
               function_ref<Value(ByteReader &, Value, Value)> body) {
  ArrayRef<int64_t> shape = resultType.getShape();
  auto gen = tensor::GenerateOp::create(
      builder, loc, resultType, ValueRange{},
      [&](OpBuilder &b, Location l, ValueRange ivs) {
        ByteReader r(b, l, packed);
        // Flatten leading dims into one row index.
        Value row = r.index(0);
        for (size_t d = 0; d + 1 < shape.size(); ++d)
          row = r.add(r.mul(row, r.index(shape[d])), ivs[d]);
        Value w = body(r, row, ivs.back());
        tensor::YieldOp::create(b, l, w);
      });
  return gen.getResult();
}

/// Byte offset of the block holding (row, col) and the column within it.
std::pair<Value, Value> blockOf(ByteReader &r, const fmt::Codec &codec,
                                int64_t cols, Value row, Value col) {
  Value bs = r.index(codec.blockSize());
  Value base = r.add(r.index(codec.headerBytes()),
                     r.add(r.mul(row, r.index(codec.rowBytes(cols))),
                           r.mul(r.div(col, bs), r.index(codec.blockBytes()))));
  return {base, r.rem(col, bs)};
}

} // namespace

FailureOr<Value> UniformFormatAttr::buildDequant(OpBuilder &builder,
                                                 Location loc, Value packed,
                                                 RankedTensorType resultType) const {
  fmt::UniformParams p = getParams();
  auto codec = getCodec();
  int64_t cols = resultType.getShape().back();
  int64_t lastByte = codec->packedBytes(1, cols) *
                         (resultType.getNumElements() / cols) - 1;
  int sb = fmt::scaleTypeBytes(p.scale);
  return generate(builder, loc, packed, resultType,
                  [&](ByteReader &r, Value row, Value col) {
    auto [base, within] = blockOf(r, *codec, cols, row, col);
    Value d = r.scale(base, p.scale);
    Value m = p.symmetric ? r.fmul(d, r.f32(-double(1 << (p.bits - 1))))
                          : r.scale(r.add(base, r.index(sb)), p.scale);
    // Code i sits at bit i*bits of the code area; read two bytes (the second
    // clamped to the tensor) so codes crossing a byte boundary are whole.
    Value bit = r.mul(within, r.index(p.bits));
    Value byte = r.add(r.add(base, r.index(sb * (p.symmetric ? 1 : 2))),
                       r.div(bit, r.index(8)));
    Value next = arith::MinUIOp::create(r.b, loc, r.add(byte, r.index(1)),
                                        r.index(lastByte));
    Value word = arith::OrIOp::create(
        r.b, loc, r.u8(byte),
        arith::ShLIOp::create(r.b, loc, r.u8(next), r.i32(8)));
    Value shift = r.toI32(r.rem(bit, r.index(8)));
    Value code = arith::AndIOp::create(
        r.b, loc, arith::ShRUIOp::create(r.b, loc, word, shift),
        r.i32((1 << p.bits) - 1));
    return r.fadd(r.fmul(d, r.toF32(code)), m);
  });
}

FailureOr<Value> TernaryFormatAttr::buildDequant(OpBuilder &builder,
                                                 Location loc, Value packed,
                                                 RankedTensorType resultType) const {
  fmt::TernaryParams p = getParams();
  auto codec = getCodec();
  int64_t cols = resultType.getShape().back();
  int scaleTrits = fmt::ternaryScaleTrits(p);
  int maxLevel = 0;
  for (int t = 0, pow = 1; t < p.depth; ++t, pow *= 3)
    maxLevel += pow;
  return generate(builder, loc, packed, resultType,
                  [&](ByteReader &r, Value row, Value col) {
    // Named values, not a structured binding: the lambda below captures them.
    std::pair<Value, Value> block = blockOf(r, *codec, cols, row, col);
    Value base = block.first, within = block.second;
    // Trit t of a group: byte t/5, digit t%5 in base 3.
    auto trit = [&](Value t) {
      Value byte = r.u8(r.add(base, r.div(t, r.index(5))));
      Value digit = r.toI32(r.rem(t, r.index(5)));
      Value pow = math::IPowIOp::create(r.b, loc, r.i32(3), digit);
      return arith::RemUIOp::create(r.b, loc, r.div(byte, pow), r.i32(3))
          .getResult();
    };
    Value k = r.i32(0), u = r.i32(0);
    for (int t = 0, pow = 1; t < scaleTrits; ++t, pow *= 3)
      k = r.add(k, r.mul(trit(r.index(t)), r.i32(pow)));
    Value first = r.add(r.index(scaleTrits), r.mul(within, r.index(p.depth)));
    for (int t = 0, pow = 1; t < p.depth; ++t, pow *= 3)
      u = r.add(u, r.mul(trit(r.add(first, r.index(t))), r.i32(pow)));
    // Codebook entry 2^(-6 (scales-1-k) / (scales-1)) times the tensor scale.
    Value entry = r.f32(1.0);
    if (p.scales > 1) {
      Value steps = r.toF32(arith::SubIOp::create(r.b, loc,
                                                  r.i32(p.scales - 1), k));
      entry = math::Exp2Op::create(
          r.b, loc, r.fmul(steps, r.f32(-6.0 / double(p.scales - 1))));
    }
    Value tensorScale = r.scale(r.index(0), fmt::ScaleType::F32);
    Value level = r.toF32(arith::SubIOp::create(r.b, loc, u, r.i32(maxLevel)));
    return r.fmul(r.fmul(tensorScale, entry), level);
  });
}

FailureOr<Value> GGUFFormatAttr::buildDequant(OpBuilder &builder, Location loc,
                                              Value packed,
                                              RankedTensorType resultType) const {
  auto codec = getCodec();
  int64_t cols = resultType.getShape().back();
  StringRef type = getType();
  auto scalar = [&](fmt::ScaleType t) {
    return generate(builder, loc, packed, resultType,
                    [&](ByteReader &r, Value row, Value col) {
      // One-weight blocks: the block's bytes are the weight.
      return r.scale(blockOf(r, *codec, cols, row, col).first, t);
    });
  };
  if (type == "F32")
    return scalar(fmt::ScaleType::F32);
  if (type == "F16")
    return scalar(fmt::ScaleType::F16);
  if (type == "BF16")
    return scalar(fmt::ScaleType::BF16);
  if (type == "Q8_0")
    return generate(builder, loc, packed, resultType,
                    [&](ByteReader &r, Value row, Value col) {
      auto [base, within] = blockOf(r, *codec, cols, row, col);
      Value d = r.scale(base, fmt::ScaleType::F16);
      return r.fmul(d, r.toF32(r.s8(r.add(base, r.add(r.index(2), within)))));
    });
  if (type == "Q4_0")
    return generate(builder, loc, packed, resultType,
                    [&](ByteReader &r, Value row, Value col) {
      auto [base, within] = blockOf(r, *codec, cols, row, col);
      // Weights j and j+16 share byte j: low nibble, then high nibble.
      Value d = r.scale(base, fmt::ScaleType::F16);
      Value byte = r.u8(r.add(base, r.add(r.index(2), r.rem(within, r.index(16)))));
      Value shift = r.mul(r.toI32(r.div(within, r.index(16))), r.i32(4));
      Value q = arith::AndIOp::create(
          r.b, loc, arith::ShRUIOp::create(r.b, loc, byte, shift), r.i32(15));
      return r.fmul(d, r.toF32(arith::SubIOp::create(r.b, loc, q, r.i32(8))));
    });
  return emitError(loc) << "no IR dequantization for ggml type " << type
                        << " yet (F32, F16, BF16, Q8_0 and Q4_0 have one)";
}
