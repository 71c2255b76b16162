//===- QCAttrs.td - Number formats and analysis attributes -----*- tablegen -*-===//
#ifndef QC_ATTRS_TD
#define QC_ATTRS_TD

include "QCBase.td"
include "QCInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

def QC_UniformFormatAttr : QC_Attr<"UniformFormat", "uniform",
    [DeclareAttrInterfaceMethods<QC_QuantFormatAttrInterface,
                                 ["getCodec"]>]> {
  let summary = "Uniform integer codes with one scale per group";
  let description = [{
    `bits`-bit integer codes (2..8) in groups of `group` weights along a row
    (16..256, a multiple of 8), each group with one scale of `scale` type
    (f16, bf16 or f32) and, when not symmetric, one offset:
    symmetric `w = d * (u - 2^(bits-1))`, asymmetric `w = d * u + m`.
    RTN, GPTQ, AWQ and importance-weighted results all land here.

    ```mlir
    #qc.uniform<bits = 4, group = 32, symmetric = true, scale = f16>
    ```
  }];
  let parameters = (ins "unsigned":$bits, "unsigned":$group,
                        "bool":$symmetric, "::mlir::Type":$scale);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    ::qc::formats::UniformParams getParams() const;
  }];
}

def QC_TernaryFormatAttr : QC_Attr<"TernaryFormat", "ternary",
    [DeclareAttrInterfaceMethods<QC_QuantFormatAttrInterface,
                                 ["getCodec"]>]> {
  let summary = "Balanced ternary with a log-spaced scale codebook";
  let description = [{
    Each weight is `depth` balanced trits (3^depth levels: depth 2 gives
    -4..4); each group of `group` weights picks one of `scales` log-spaced
    scales (a power of 3, stored as trits) times a per-tensor f32 scale.
    Trits are packed 5 per byte per group: depth 2, group 16, 27 scales
    takes 35 trits = 7 bytes per 16 weights (3.5 bits per weight; the
    information content is 2 log2(3) + log2(27)/16 = 3.47).

    ```mlir
    #qc.ternary<depth = 2, group = 16, scales = 27>
    ```
  }];
  let parameters = (ins "unsigned":$depth, "unsigned":$group,
                        "unsigned":$scales);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    ::qc::formats::TernaryParams getParams() const;
  }];
}

def QC_GGUFFormatAttr : QC_Attr<"GGUFFormat", "gguf",
    [DeclareAttrInterfaceMethods<QC_QuantFormatAttrInterface,
                                 ["getCodec"]>]> {
  let summary = "A llama.cpp (ggml) block type, bit-exact";
  let description = [{
    The bytes are those of the ggml type named (`Q4_0`, `Q8_0`, `Q4_K`,
    `Q6_K`, `F16`, ...), so exporting to GGUF is a copy and llama.cpp runs the
    result. Rows must be a whole number of the type's blocks.

    ```mlir
    #qc.gguf<"Q4_K">
    ```
  }];
  let parameters = (ins StringRefParameter<"ggml type name">:$type);
  let assemblyFormat = "`<` $type `>`";
  let genVerifyDecl = 1;
}

def QC_RegisteredFormatAttr : QC_Attr<"RegisteredFormat", "format",
    [DeclareAttrInterfaceMethods<QC_QuantFormatAttrInterface, ["getCodec"]>]> {
  let summary = "Any format of the registry, by name";
  let description = [{
    A format registered in lib/Formats (qc/Formats/Registry.h) without an
    attribute of its own, such as the research formats `nf4` and `fp4`.
    Sizes, IR dequantization and kernels all come from its codec and
    layout, so a new format needs no change to the dialect.

    ```mlir
    #qc.format<"nf4">
    ```
  }];
  let parameters = (ins StringRefParameter<"format name">:$name);
  let assemblyFormat = "`<` $name `>`";
  let genVerifyDecl = 1;
}

def QC_StatsAttr : QC_Attr<"Stats", "stats"> {
  let summary = "A reference to analysis statistics kept in a file";
  let description = [{
    Names an entry `key` of a statistics file (an imatrix, X^T X, ...) that
    an analysis pass wrote, so results travel with the IR without their
    bulk: `qc.importance = #qc.stats<"calib.imatrix", "blk.0.attn_q.weight">`.
  }];
  let parameters = (ins StringRefParameter<"statistics file">:$file,
                        StringRefParameter<"entry in the file">:$key);
  let assemblyFormat = "`<` $file `,` $key `>`";
  let genVerifyDecl = 1;
}

#endif // QC_ATTRS_TD
