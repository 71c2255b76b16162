//===- QCDialect.h - The qc dialect -----------------------------*- C++ -*-===//
#ifndef QC_DIALECT_QC_IR_QCDIALECT_H
#define QC_DIALECT_QC_IR_QCDIALECT_H

#include "qc/Formats/Codec.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/QC/IR/QCDialect.h.inc"

namespace mlir::qc::detail {
/// Interface defaults: sizes and shape rules come from the format's codec.
LogicalResult verifyShapeWithCodec(const ::qc::formats::Codec &codec,
                                   Attribute format, ArrayRef<int64_t> shape,
                                   function_ref<InFlightDiagnostic()> emitError);
int64_t packedBytesWithCodec(const ::qc::formats::Codec &codec,
                             ArrayRef<int64_t> shape);
/// IR dequantization by the codec's layout (QCDequant.cpp).
FailureOr<Value> buildDequantFromLayout(const ::qc::formats::Codec &codec,
                                        OpBuilder &builder, Location loc,
                                        Value packed, RankedTensorType resultType);
} // namespace mlir::qc::detail

#include "dialects/QC/IR/QCInterfaces.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/QC/IR/QCAttrs.h.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/QC/IR/QCTypes.h.inc"

#define GET_OP_CLASSES
#include "dialects/QC/IR/QCOps.h.inc"

namespace mlir::qc {
/// The logical shape of a float tensor or quantized tensor type.
ArrayRef<int64_t> getLogicalShape(Type type);
/// The format attribute a codec name (formats::Codec::name()) stands for;
/// null when the name is unknown.
QuantFormatAttrInterface getFormatAttr(MLIRContext *context,
                                       const std::string &codecName);
} // namespace mlir::qc

#endif // QC_DIALECT_QC_IR_QCDIALECT_H
