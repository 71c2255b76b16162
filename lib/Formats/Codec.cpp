//===- Codec.cpp - Shared codec arithmetic --------------------------------===//
#include "qc/Formats/Codec.h"

namespace qc::formats {

std::string Codec::checkRowLength(int64_t cols) const {
  if (cols <= 0)
    return "row length must be positive, got " + std::to_string(cols);
  return {};
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

} // namespace qc::formats
