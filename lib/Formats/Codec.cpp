//===- Codec.cpp - Shared codec arithmetic --------------------------------===//
#include "qc/Formats/Codec.h"
#include "qc/Formats/GGML.h"
#include "qc/Formats/Registry.h"

#include <cstdio>
#include <cstring>
#include <vector>

namespace qc::formats {

std::string Codec::checkRowLength(int64_t cols) const {
  if (cols <= 0)
    return "row length must be positive, got " + std::to_string(cols);
  return {};
}

std::string Codec::gptqQuantizer(const float *, int64_t, int64_t, uint8_t *,
                                 GroupQuantizer &) const {
  return name() + " has no GPTQ quantizer (uniform and ternary formats do)";
}

std::string Codec::quantizeGroupHessian(const float *src, int64_t rows,
                                        int64_t cols, const double *hessian,
                                        uint8_t *dst) const {
  std::vector<float> importance(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c)
    importance[c] = float(hessian[c * cols + c]);
  return quantize(src, rows, cols, importance.data(), dst);
}

int64_t Codec::rowBytes(int64_t cols) const {
  if (!checkRowLength(cols).empty())
    return -1;
  int64_t blocks = cols / blockSize() + (cols % blockSize() != 0);
  int64_t bytes;
  if (__builtin_mul_overflow(blocks, blockBytes(), &bytes))
    return -1;
  return bytes;
}

int64_t Codec::packedBytes(int64_t rows, int64_t cols) const {
  int64_t row = rowBytes(cols);
  int64_t body, total;
  if (row < 0 || rows < 0 || __builtin_mul_overflow(rows, row, &body) ||
      __builtin_add_overflow(body, headerBytes(), &total))
    return -1;
  return total;
}

double Codec::bitsPerWeight(int64_t rows, int64_t cols) const {
  int64_t bytes = packedBytes(rows, cols);
  if (bytes < 0 || rows * cols == 0)
    return 0.0;
  return 8.0 * double(bytes) / (double(rows) * double(cols));
}

const char *scaleTypeName(ScaleType type) {
  switch (type) {
  case ScaleType::F16: return "f16";
  case ScaleType::BF16: return "bf16";
  case ScaleType::F32: return "f32";
  }
  return "?";
}

int scaleTypeBytes(ScaleType type) { return type == ScaleType::F32 ? 4 : 2; }

std::optional<FormatName> parseFormatName(const std::string &name) {
  int a, b, c, n = 0;
  char sym[8], scale[8];
  FormatName f{};
  if (std::sscanf(name.c_str(), "ternary<%d,%d,%d>%n", &a, &b, &c, &n) == 3 &&
      size_t(n) == name.size()) {
    f.kind = FormatName::Ternary;
    f.ternary = {a, b, c};
    if (!checkTernaryParams(f.ternary).empty())
      return std::nullopt;
    return f;
  }
  if (std::sscanf(name.c_str(), "uniform<%d,%d,%7[a-z],%7[a-z0-9]>%n", &a, &b,
                  sym, scale, &n) == 4 &&
      size_t(n) == name.size()) {
    f.kind = FormatName::Uniform;
    f.uniform = {a, b, std::strcmp(sym, "sym") == 0, ScaleType::F16};
    if (std::strcmp(sym, "sym") != 0 && std::strcmp(sym, "asym") != 0)
      return std::nullopt;
    if (std::strcmp(scale, "bf16") == 0)
      f.uniform.scale = ScaleType::BF16;
    else if (std::strcmp(scale, "f32") == 0)
      f.uniform.scale = ScaleType::F32;
    else if (std::strcmp(scale, "f16") != 0)
      return std::nullopt;
    if (!checkUniformParams(f.uniform).empty())
      return std::nullopt;
    return f;
  }
  auto info = ggmlTypeByName(name);
  if (info && info->canDequantize) {
    f.kind = FormatName::GGML;
    f.ggml = info->name;
    return f;
  }
  if (name.rfind("uniform<", 0) == 0 || name.rfind("ternary<", 0) == 0)
    return std::nullopt; // their parameters did not parse above
  std::string why;
  if (!makeCodec(name, why))
    return std::nullopt;
  f.kind = FormatName::Registered;
  f.registered = name;
  return f;
}

std::unique_ptr<Codec> makeCodec(const std::string &name) {
  std::string why;
  return makeCodec(name, why);
}

} // namespace qc::formats
