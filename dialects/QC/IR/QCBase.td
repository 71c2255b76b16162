//===- QCBase.td - The qc dialect ------------------------------*- tablegen -*-===//
#ifndef QC_BASE_TD
#define QC_BASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def QC_Dialect : Dialect {
  let name = "qc";
  let cppNamespace = "::mlir::qc";
  let summary = "Quantization compiler for language models";
  let description = [{
    The `qc` dialect describes a transformer language model as a short list of
    graph ops (embedding, rms_norm, rope, attention with a KV cache, linear,
    silu/gelu, softmax, logits; elementwise add and mul are `arith.addf` /
    `arith.mulf`), weights that live outside the IR in a weights archive
    (`qc.param`), and quantized number formats as attributes implementing
    `QuantFormatAttrInterface`. Quantized tensors have type `!qc.qtensor`;
    `qc.quantize` / `qc.dequantize` convert between them and float tensors,
    `qc.pack` / `qc.unpack` between them and their packed bytes.
  }];
  let useDefaultAttributePrinterParser = 1;
  let useDefaultTypePrinterParser = 1;
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

class QC_Op<string mnemonic, list<Trait> traits = []>
    : Op<QC_Dialect, mnemonic, traits>;

class QC_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<QC_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

class QC_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<QC_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

#endif // QC_BASE_TD
