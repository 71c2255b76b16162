//===- QCTypes.td - Quantized tensor and KV cache types --------*- tablegen -*-===//
#ifndef QC_TYPES_TD
#define QC_TYPES_TD

include "QCBase.td"
include "QCInterfaces.td"

def QC_QTensorType : QC_Type<"QTensor", "qtensor"> {
  let summary = "A tensor stored in a quantized number format";
  let description = [{
    A statically shaped tensor whose elements are stored in `format`; its
    storage is opaque until `qc.pack` exposes the bytes.

    ```mlir
    !qc.qtensor<172x64, #qc.gguf<"Q8_0">>
    ```
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "::mlir::qc::QuantFormatAttrInterface":$format);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Bytes of the packed storage.
    int64_t getPackedBytes() const { return getFormat().getPackedBytes(getShape()); }
  }];
}

def QC_KVCacheType : QC_Type<"KVCache", "kv_cache"> {
  let summary = "Keys and values of one attention layer";
  let description = [{
    Room for `positions` positions of `kv_heads` heads of `head_dim` keys and
    values each, stored as `element_type` (f32, f16, or i8 for a q8 cache).

    ```mlir
    !qc.kv_cache<positions = 512, kv_heads = 4, head_dim = 8, element_type = f16>
    ```
  }];
  let parameters = (ins "int64_t":$positions, "int64_t":$kv_heads,
                        "int64_t":$head_dim, "::mlir::Type":$element_type);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // QC_TYPES_TD
