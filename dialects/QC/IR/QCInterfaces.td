//===- QCInterfaces.td - Format attribute interface ------------*- tablegen -*-===//
#ifndef QC_INTERFACES_TD
#define QC_INTERFACES_TD

include "mlir/IR/OpBase.td"

def QC_QuantFormatAttrInterface : AttrInterface<"QuantFormatAttrInterface"> {
  let cppNamespace = "::mlir::qc";
  let description = [{
    A number format weights can be stored in. Everything downstream of format
    assignment (quantization, packing, kernel generation, export, evaluation)
    reaches the format only through this interface, so a new format is a new
    attribute implementing it plus its codec in lib/Formats, whose layout
    description gives the IR dequantization and the kernels.

    Sizes are those of the codec: an optional per-tensor header, then rows of
    equal length in whole blocks. Tensors of rank > 2 are treated as
    [product of leading dims, last dim].
  }];
  let methods = [
    InterfaceMethod<
      "The codec (plain C++, lib/Formats) that quantizes and dequantizes "
      "tensors of this format; never null for a verified attribute.",
      "std::unique_ptr<::qc::formats::Codec>", "getCodec">,
    InterfaceMethod<
      "Builds IR that reconstructs the f32 tensor `resultType` from `packed`, "
      "a 1-D tensor of i8 holding the packed bytes; by default from the "
      "codec's layout (qc/Formats/Layout.h).",
      "::mlir::FailureOr<::mlir::Value>", "buildDequant",
      (ins "::mlir::OpBuilder &":$builder, "::mlir::Location":$loc,
           "::mlir::Value":$packed, "::mlir::RankedTensorType":$resultType),
      [{}], [{
        return ::mlir::qc::detail::buildDequantFromLayout(
            *$_attr.getCodec(), builder, loc, packed, resultType);
      }]>,
    InterfaceMethod<
      "Bits per weight of rows filling whole blocks (scales included).",
      "double", "getBitsPerWeight", (ins), [{}], [{
        return $_attr.getCodec()->nominalBitsPerWeight();
      }]>,
    InterfaceMethod<
      "Shape of one block: weights sharing scales, as [rows, columns].",
      "::llvm::SmallVector<int64_t, 2>", "getBlockShape", (ins), [{}], [{
        return {1, $_attr.getCodec()->blockSize()};
      }]>,
    InterfaceMethod<
      "Checks that a tensor of `shape` can be stored in this format; emits "
      "the rule it breaks otherwise.",
      "::mlir::LogicalResult", "verifyShape",
      (ins "::llvm::ArrayRef<int64_t>":$shape,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError),
      [{}], [{
        return ::mlir::qc::detail::verifyShapeWithCodec(
            *$_attr.getCodec(), $_attr, shape, emitError);
      }]>,
    InterfaceMethod<
      "Bytes a tensor of `shape` occupies when packed; -1 when it cannot be "
      "stored in this format.",
      "int64_t", "getPackedBytes", (ins "::llvm::ArrayRef<int64_t>":$shape),
      [{}], [{
        return ::mlir::qc::detail::packedBytesWithCodec(*$_attr.getCodec(),
                                                        shape);
      }]>,
  ];
}

#endif // QC_INTERFACES_TD
