//===- QCTypes.cpp - Quantized tensor and KV cache types ------------------===//
#include "dialects/QC/IR/QCDialect.h"

#include "mlir/IR/DialectImplementation.h"

using namespace mlir;
using namespace mlir::qc;

// !qc.qtensor<64x172, #qc.gguf<"Q8_0">>
Type QTensorType::parse(AsmParser &parser) {
  SmallVector<int64_t> shape;
  Attribute format;
  SMLoc loc = parser.getCurrentLocation();
  if (parser.parseLess() ||
      parser.parseDimensionList(shape, /*allowDynamic=*/false,
                                /*withTrailingX=*/false) ||
      parser.parseComma() || parser.parseAttribute(format) ||
      parser.parseGreater())
    return {};
  auto formatAttr = dyn_cast<QuantFormatAttrInterface>(format);
  if (!formatAttr) {
    parser.emitError(loc) << "expected a quantization format attribute, got "
                          << format;
    return {};
  }
  return parser.getChecked<QTensorType>(loc, parser.getContext(),
                                        ArrayRef<int64_t>(shape),
                                        formatAttr);
}

void QTensorType::print(AsmPrinter &printer) const {
  printer << '<';
  llvm::interleave(getShape(), printer, "x");
  printer << ", " << getFormat() << '>';
}

LogicalResult QTensorType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  ArrayRef<int64_t> shape,
                                  QuantFormatAttrInterface format) {
  return format.verifyShape(shape, emitError);
}

LogicalResult KVCacheType::verify(function_ref<InFlightDiagnostic()> emitError,
                                  int64_t positions, int64_t kvHeads,
                                  int64_t headDim, Type elementType) {
  if (positions <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitError() << "KV cache positions, kv_heads and head_dim must be "
                          "positive";
  if (!elementType.isF32() && !elementType.isF16() &&
      !elementType.isInteger(8))
    return emitError() << "KV cache element type must be f32, f16 or i8 (q8), "
                          "got "
                       << elementType;
  return success();
}
