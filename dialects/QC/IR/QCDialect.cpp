//===- QCDialect.cpp - qc dialect registration ----------------------------===//
#include "dialects/QC/IR/QCDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qc;

#include "dialects/QC/IR/QCDialect.cpp.inc"
#include "dialects/QC/IR/QCInterfaces.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/QC/IR/QCAttrs.cpp.inc"

#define GET_TYPEDEF_CLASSES
#include "dialects/QC/IR/QCTypes.cpp.inc"

void QCDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/QC/IR/QCAttrs.cpp.inc"
      >();
  addTypes<
#define GET_TYPEDEF_LIST
#include "dialects/QC/IR/QCTypes.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "dialects/QC/IR/QCOps.cpp.inc"
      >();
}

namespace {
/// [rows, cols] of a tensor shape as the codecs see it.
std::pair<int64_t, int64_t> rowsAndCols(ArrayRef<int64_t> shape) {
  int64_t rows = 1;
  for (int64_t d : shape.drop_back())
    if (__builtin_mul_overflow(rows, d, &rows))
      return {-1, -1};
  return {rows, shape.empty() ? 1 : shape.back()};
}
} // namespace

LogicalResult mlir::qc::detail::verifyShapeWithCodec(
    const ::qc::formats::Codec &codec, Attribute format,
    ArrayRef<int64_t> shape, function_ref<InFlightDiagnostic()> emitError) {
  if (shape.empty() || llvm::any_of(shape, [](int64_t d) { return d <= 0; }))
    return emitError() << "quantized tensors need a static shape of positive "
                          "extents";
  auto [rows, cols] = rowsAndCols(shape);
  std::string why = codec.checkRowLength(cols);
  if (!why.empty())
    return emitError() << format << ": " << why;
  if (codec.packedBytes(rows, cols) < 0)
    return emitError() << format << ": packed size overflows 64 bits";
  return success();
}

int64_t mlir::qc::detail::packedBytesWithCodec(
    const ::qc::formats::Codec &codec, ArrayRef<int64_t> shape) {
  auto [rows, cols] = rowsAndCols(shape);
  return rows < 0 ? -1 : codec.packedBytes(rows, cols);
}

ArrayRef<int64_t> mlir::qc::getLogicalShape(Type type) {
  if (auto q = dyn_cast<QTensorType>(type))
    return q.getShape();
  return cast<RankedTensorType>(type).getShape();
}
