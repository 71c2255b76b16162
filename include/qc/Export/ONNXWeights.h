//===- ONNXWeights.h - Weight-only quantization of ONNX graphs --*- C++ -*-===//
//
// Any ONNX graph: the constant weights of its MatMul and Gemm nodes become
// MatMulNBits (com.microsoft, as ONNX Runtime defines it) in a qc format
// whose layout it can hold; every other node is left as it is.
//
//===----------------------------------------------------------------------===//
#ifndef QC_EXPORT_ONNXWEIGHTS_H
#define QC_EXPORT_ONNXWEIGHTS_H

#include <cstdint>
#include <string>
#include <vector>

namespace qc {

struct OnnxWeightOptions {
  /// A registered format with MatMulNBits' form: blocks of 16..256 (a power
  /// of two) of 4- or 8-bit codes with one scale and an implicit zero point
  /// of 2^(bits-1), e.g. uniform<4,32,sym,f16>, Q4_0, Q8_0.
  std::string format = "uniform<4,32,sym,f16>";
  /// Weights with fewer elements stay float.
  int64_t minElements = 0;
};

struct OnnxWeightRow {
  std::string node, weight;
  int64_t k = 0, n = 0;
  double relativeError = 0; // |W - Q(W)|^2 / |W|^2
};

struct OnnxWeightReport {
  std::vector<OnnxWeightRow> quantized;
  std::vector<std::string> kept; // "node: why"
  uint64_t bytesIn = 0, bytesOut = 0;
};

/// Reads `input`, writes `output` (complete or not at all). Throws
/// model::FormatError naming the node or tensor.
OnnxWeightReport quantizeOnnxWeights(const std::string &input,
                                     const std::string &output,
                                     const OnnxWeightOptions &options);

/// Why `format` has no MatMulNBits form, or empty; `bits`/`block` get its
/// parameters.
std::string matMulNBitsForm(const std::string &format, int &bits,
                            int64_t &block);

namespace formats {
class Codec;
}
/// Re-packs `rows` x `cols` weights stored by `codec` (a format with a
/// MatMulNBits form of `bits`) as MatMulNBits' B ([rows, blocks, block *
/// bits / 8]) and f32 scales ([rows * blocks]); the reason when a code
/// falls outside, else empty.
std::string packMatMulNBits(const formats::Codec &codec, const uint8_t *packed,
                            int64_t rows, int64_t cols, int bits,
                            std::string &packedB, std::string &scales);

} // namespace qc

#endif // QC_EXPORT_ONNXWEIGHTS_H
