//===- Codec.h - Quantization codecs (no MLIR) ------------------*- C++ -*-===//
//
// A codec turns a row-major [rows x cols] float tensor into the packed bytes
// of one number format and back. Codecs are plain C++ shared by the compiler
// passes, the runtime, the import readers, the tests and the Python bindings.
//
// Packed layout of every codec: an optional per-tensor header, then rows of
// equal byte length (so row r starts at header + r * rowBytes(cols)). A row
// whose length is not a multiple of the block is padded to whole blocks and
// the padding is counted in its bits per weight.
//
//===----------------------------------------------------------------------===//
#ifndef QC_FORMATS_CODEC_H
#define QC_FORMATS_CODEC_H

#include "qc/Formats/Layout.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace qc::formats {

/// What GPTQ (qc/Analysis/GPTQ.h) asks of a format with per-(row, group)
/// parameters: they are fixed up front from the weights ("static groups"),
/// then each weight is rounded after the error feedback of the columns
/// before it, and at the end the recorded codes are packed.
struct GroupQuantizer {
  int64_t group = 0;
  /// Fixes the parameters of (row, block) from its weights and importance
  /// (`n` valid of `group`; padding has importance 0).
  std::function<void(int64_t row, int64_t block, const float *w,
                     const float *importance, int64_t n)>
      fit;
  /// Rounds one weight under its group's parameters: records the code and
  /// returns the value it reconstructs. Rows may be rounded concurrently.
  std::function<float(int64_t row, int64_t col, float w)> round;
  /// Packs every recorded code and parameter into the destination.
  std::function<void()> finish;
};

class Codec {
public:
  virtual ~Codec() = default;

  /// Short name, e.g. "Q4_K", "uniform<4,32,sym,f16>", "ternary<2,16,27>".
  virtual std::string name() const = 0;
  /// Weights per block along a row (the unit that shares scales).
  virtual int64_t blockSize() const = 0;
  /// Bytes of one block.
  virtual int64_t blockBytes() const = 0;
  /// Bytes before the first row (per-tensor scales and the like).
  virtual int64_t headerBytes() const { return 0; }
  /// Empty when rows of `cols` weights can be stored, otherwise the reason.
  virtual std::string checkRowLength(int64_t cols) const;
  /// What the packed bytes hold, for code that decodes without the codec
  /// (kernels, dequantizing IR): see qc/Formats/Layout.h.
  virtual Layout layout() const = 0;

  /// Bits per weight of a row that fills whole blocks, header excluded.
  double nominalBitsPerWeight() const {
    return 8.0 * double(blockBytes()) / double(blockSize());
  }
  /// Bytes of one packed row (padding included); -1 on overflow or bad cols.
  int64_t rowBytes(int64_t cols) const;
  /// Bytes of a packed [rows x cols] tensor; -1 on overflow or bad shape.
  int64_t packedBytes(int64_t rows, int64_t cols) const;
  /// Exact bits per weight of a packed [rows x cols] tensor.
  double bitsPerWeight(int64_t rows, int64_t cols) const;

  /// Quantizes `src` ([rows x cols]) into `dst` (packedBytes bytes).
  /// `importance`, when given, holds one non-negative weight per column
  /// (llama.cpp's imatrix) that the codec's error search minimises against.
  /// Returns an empty string or the reason it cannot.
  virtual std::string quantize(const float *src, int64_t rows, int64_t cols,
                               const float *importance, uint8_t *dst) const = 0;
  /// The GPTQ side of the format for `src` ([rows x cols], which sets a
  /// per-tensor header) packed into `dst` (packedBytes bytes). Returns the
  /// reason when the format has no per-group rounding GPTQ can drive.
  /// Whether gptqQuantizer works (per-group rounding GPTQ can drive).
  virtual bool supportsGPTQ() const { return false; }
  virtual std::string gptqQuantizer(const float *src, int64_t rows,
                                    int64_t cols, uint8_t *dst,
                                    GroupQuantizer &out) const;
  /// Importance-weighted quantization with the correlations inside each
  /// group: every group minimises (w - q)^T H_gg (w - q) over its scale,
  /// offset and codes, where H_gg is the group's diagonal block of
  /// H = X^T X (cols x cols, row-major). No error moves between groups (that
  /// is GPTQ). Formats without their own search use diag(H) as importance.
  virtual std::string quantizeGroupHessian(const float *src, int64_t rows,
                                           int64_t cols, const double *hessian,
                                           uint8_t *dst) const;
  /// Reconstructs [rows x cols] floats from packed bytes.
  virtual void dequantize(const uint8_t *src, int64_t rows, int64_t cols,
                          float *dst) const = 0;
};

enum class ScaleType { F16, BF16, F32 };
const char *scaleTypeName(ScaleType type);
int scaleTypeBytes(ScaleType type);

/// Uniform integer codes with one scale (and, asymmetric, one offset) per
/// group: per group [scale][offset if asymmetric][ceil(group*bits/8) code
/// bytes, little-endian bit stream]. Symmetric: w = d * (u - 2^(bits-1));
/// asymmetric: w = d * u + m.
struct UniformParams {
  int bits = 4;
  int group = 32;
  bool symmetric = true;
  ScaleType scale = ScaleType::F16;
};
/// Empty when the parameters name a storable format, otherwise the rule.
std::string checkUniformParams(const UniformParams &params);
std::unique_ptr<Codec> makeUniformCodec(const UniformParams &params);

/// Balanced ternary: each weight is q in [-L, L], L = (3^depth - 1) / 2,
/// written as `depth` trits; each group picks one of `scales` log-spaced
/// scales c_k = T * 2^(-6 (scales-1-k) / (scales-1)) from a codebook times
/// the per-tensor scale T (f32 header). A group's trits (scale index first,
/// then the weights, least significant trit first) are packed 5 per byte.
struct TernaryParams {
  int depth = 2;
  int group = 16;
  int scales = 27;
};
std::string checkTernaryParams(const TernaryParams &params);
std::unique_ptr<Codec> makeTernaryCodec(const TernaryParams &params);
/// The codebook multiplier of scale index k (before the per-tensor scale).
/// A format named as Codec::name() writes it: a ggml type ("Q4_K", "F16"),
/// "uniform<bits,group,sym|asym,f16|bf16|f32>", "ternary<depth,group,scales>"
/// (the formats with IR attributes of their own) or any other family of
/// the registry (qc/Formats/Registry.h), e.g. "nf4".
struct FormatName {
  enum Kind { GGML, Uniform, Ternary, Registered } kind;
  std::string ggml; // the ggml type name, for kind GGML
  UniformParams uniform;
  TernaryParams ternary;
  std::string registered; // the whole name, for kind Registered
};
/// Parses a format name; nullopt when malformed or its parameters invalid.
std::optional<FormatName> parseFormatName(const std::string &name);
/// The codec of a format name (through the registry); null when unknown.
std::unique_ptr<Codec> makeCodec(const std::string &name);

float ternaryCodebookEntry(const TernaryParams &params, int k);
/// Number of trits used for the scale index of a group.
int ternaryScaleTrits(const TernaryParams &params);

} // namespace qc::formats

#endif // QC_FORMATS_CODEC_H
