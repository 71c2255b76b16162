//===- Q8Codes.h - int8 codes of a vector, shared by generated kernels ----===//
//
// The q8 rule of the runtime's int8 data (activations of q8 products, q8 KV
// cache rows): d = max|x| / 127, codes = roundeven(x / d), all-zero x gives
// d = 0 and zero codes.
//
//===----------------------------------------------------------------------===//
#ifndef QC_CONVERSION_QCTOCPU_Q8CODES_H
#define QC_CONVERSION_QCTOCPU_Q8CODES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::qc {

struct Q8Codes {
  Value codes; // vector<n x i8>
  Value scale; // f32, d
};

/// The int8 codes and scale of x (vector<n x f32>).
inline Q8Codes emitQ8Codes(ImplicitLocOpBuilder &b, Value x) {
  auto type = cast<VectorType>(x.getType());
  auto f32 = [&](float v) -> Value {
    return arith::ConstantFloatOp::create(b, b.getF32Type(), APFloat(v));
  };
  Value amax = vector::ReductionOp::create(b, vector::CombiningKind::MAXIMUMF,
                                           math::AbsFOp::create(b, x));
  Value d = arith::DivFOp::create(b, amax, f32(127.0f));
  Value inv = arith::SelectOp::create(
      b, arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, d, f32(0.0f)),
      arith::DivFOp::create(b, f32(1.0f), d), f32(0.0f));
  Value codes = arith::FPToSIOp::create(
      b, VectorType::get(type.getShape(), b.getI8Type()),
      math::RoundEvenOp::create(
          b, arith::MulFOp::create(b, x, vector::BroadcastOp::create(b, type, inv))));
  return {codes, d};
}

} // namespace mlir::qc

#endif // QC_CONVERSION_QCTOCPU_Q8CODES_H
