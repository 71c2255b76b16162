//===- Layout.cpp - Decoding by a format's layout description -------------===//
#include "qc/Formats/Layout.h"
#include "qc/Formats/Half.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace qc::formats {

int scalarBytes(Scalar s) {
  switch (s) {
  case Scalar::F32: return 4;
  case Scalar::F16:
  case Scalar::BF16: return 2;
  case Scalar::E8M0: return 1;
  }
  return 4;
}

float readScalar(Scalar s, const uint8_t *p) {
  switch (s) {
  case Scalar::F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case Scalar::F16: return halfToFloat(uint16_t(p[0] | p[1] << 8));
  case Scalar::BF16: return bf16ToFloat(uint16_t(p[0] | p[1] << 8));
  case Scalar::E8M0: return std::ldexp(1.0f, int(p[0]) - 127);
  }
  return 0.0f;
}

bool BitPiece::spansBytes() const {
  for (int64_t s : shift)
    if (s + bits > 8)
      return true;
  return false;
}

int PackedInts::bits() const {
  int b = 0;
  for (const BitPiece &p : pieces)
    b = std::max(b, p.position + p.bits);
  return b;
}

uint32_t PackedInts::raw(const uint8_t *block, int64_t e) const {
  uint32_t u = 0;
  for (const BitPiece &p : pieces) {
    const uint8_t *at = block + p.byteOf[e];
    uint32_t word = at[0];
    if (p.shift[e] + p.bits > 8)
      word |= uint32_t(at[1]) << 8;
    u |= (word >> p.shift[e] & ((1u << p.bits) - 1)) << p.position;
  }
  return u ^ flip;
}

int64_t Layout::rowBytes(int64_t cols) const {
  if (kind == Float)
    return cols * scalarBytes(element);
  return (cols + blockWeights - 1) / blockWeights * blockBytes;
}

int64_t tritDivisorMagic(int digit) {
  int64_t p = 1;
  for (int i = 0; i < digit; ++i)
    p *= 3;
  return (65536 + p - 1) / p;
}

namespace {

int64_t trit(const uint8_t *block, int64_t t) {
  return (block[t / 5] * tritDivisorMagic(int(t % 5)) >> 16) % 3;
}

/// Weights [0, n) of the block at `block` (n < blockWeights: a short last
/// block whose padding is not written).
void decodeBlock(const Layout &L, const uint8_t *header, const uint8_t *block,
                 int64_t n, float *out) {
  if (L.kind == Layout::Trits) {
    int64_t k = 0;
    for (int t = 0, p = 1; t < L.scaleTrits; ++t, p *= 3)
      k += trit(block, t) * p;
    float d = readScalar(Scalar::F32, header) *
              L.codebook[std::min<int64_t>(k, int64_t(L.codebook.size()) - 1)];
    for (int64_t e = 0; e < n; ++e) {
      int64_t u = 0;
      for (int t = 0, p = 1; t < L.depth; ++t, p *= 3)
        u += trit(block, L.scaleTrits + e * L.depth + t) * p;
      out[e] = d * float(u - L.zero);
    }
    return;
  }
  float d = readScalar(L.scaleType, block + L.scaleOffset);
  float dmin = L.minOffset < 0 ? 0.0f : readScalar(L.scaleType, block + L.minOffset);
  int64_t G = L.groupWeights();
  for (int64_t e = 0; e < n; ++e) {
    int64_t s = e / G;
    float scale = L.subScales.empty() ? d : d * float(L.subScales.read(block, s));
    float minimum = L.minSign * (L.subMins.empty() ? dmin
                                                   : dmin * float(L.subMins.read(block, s)));
    uint32_t u = L.codes.raw(block, e);
    float v = L.values.empty() ? float(int64_t(u) - L.zero) : L.values[u];
    out[e] = scale * v + minimum;
  }
}

} // namespace

void decodeByLayout(const Layout &L, const uint8_t *src, int64_t rows,
                    int64_t cols, float *dst) {
  int64_t rowBytes = L.rowBytes(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t *row = src + L.headerBytes + r * rowBytes;
    float *out = dst + r * cols;
    if (L.kind == Layout::Float) {
      int64_t eb = scalarBytes(L.element);
      for (int64_t c = 0; c < cols; ++c)
        out[c] = readScalar(L.element, row + c * eb);
      continue;
    }
    for (int64_t c0 = 0, blk = 0; c0 < cols; c0 += L.blockWeights, ++blk)
      decodeBlock(L, src, row + blk * L.blockBytes,
                  std::min(L.blockWeights, cols - c0), out + c0);
  }
}

} // namespace qc::formats
