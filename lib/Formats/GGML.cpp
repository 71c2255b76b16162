//===- GGML.cpp - llama.cpp block formats ---------------------------------===//
//
// Layouts follow ggml-common.h (block_q4_0, block_q4_K, ...). Quantizers
// without importance follow ggml's quantize_row_*_ref arithmetic so the bytes
// equal llama-quantize's.
//
//===----------------------------------------------------------------------===//
#include "qc/Formats/GGML.h"
#include "qc/Formats/Registry.h"
#include "GGMLLayout.h"
#include "KQuants.h"
#include "ScaleIO.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace qc::formats {

namespace {

constexpr int64_t QK_K = 256;



using BlockDequant = void (*)(const uint8_t *block, float *out);
/// Quantizes `n` weights (whole blocks) to consecutive blocks. With
/// `importance` (one per weight, llama.cpp's imatrix) `n` is one row.
using RowQuant = void (*)(const float *in, int64_t n, const float *importance,
                          uint8_t *out);

/// Types whose quantizer has no importance-aware variant in llama.cpp.
template <void (*Block)(const float *, uint8_t *), int64_t Size, int64_t Bytes>
void perBlock(const float *in, int64_t n, const float *, uint8_t *out) {
  for (int64_t i = 0; i < n / Size; ++i)
    Block(in + i * Size, out + i * Bytes);
}

template <void (*Block)(const float *, uint8_t *, const float *), int64_t Size,
          int64_t Bytes>
void perBlockWithImportance(const float *in, int64_t n, const float *imp,
                            uint8_t *out) {
  for (int64_t i = 0; i < n / Size; ++i)
    Block(in + i * Size, out + i * Bytes, imp ? imp + i * Size : nullptr);
}

/// Q4_0 / Q5_0 with an imatrix: per block make_qx_quants weighted by
/// imp * sqrt(sigma2 + x^2), sigma2 the row's mean square (llama.cpp's
/// quantize_row_q{4,5}_0_impl).
template <void (*Ref)(const float *, uint8_t *), int NMax, int64_t Bytes>
void legacyWithImportance(const float *in, int64_t n, const float *imp,
                          uint8_t *out) {
  if (!imp)
    return perBlock<Ref, 32, Bytes>(in, n, imp, out);
  float sumX2 = 0; // fused as a native ggml build does (see makeQxQuants)
  for (int64_t j = 0; j < n; ++j)
    sumX2 = std::fma(in[j], in[j], sumX2);
  float sigma2 = sumX2 / n;
  float weight[32];
  int8_t L[32];
  for (int64_t ib = 0; ib < n / 32; ++ib) {
    const float *xb = in + 32 * ib, *qw = imp + 32 * ib;
    uint8_t *b = out + ib * Bytes;
    for (int j = 0; j < 32; ++j)
      weight[j] = qw[j] * std::sqrt(std::fma(xb[j], xb[j], sigma2));
    float d = makeQxQuants(32, NMax, xb, L, weight);
    storeU16(b, floatToHalf(d));
    if (NMax == 8) {
      for (int j = 0; j < 16; ++j)
        b[2 + j] = uint8_t(L[j] | (L[j + 16] << 4));
    } else {
      uint32_t qh = 0;
      for (int j = 0; j < 16; ++j) {
        uint8_t x0 = uint8_t(L[j]), x1 = uint8_t(L[j + 16]);
        b[6 + j] = uint8_t((x0 & 0x0F) | ((x1 & 0x0F) << 4));
        qh |= uint32_t((x0 & 0x10) >> 4) << j;
        qh |= uint32_t((x1 & 0x10) >> 4) << (j + 16);
      }
      std::memcpy(b + 2, &qh, 4);
    }
  }
}

// --- dequantization of one block -------------------------------------------

void dqF32(const uint8_t *b, float *y) { *y = loadF32(b); }
void dqF16(const uint8_t *b, float *y) { *y = loadF16(b); }
void dqBF16(const uint8_t *b, float *y) { *y = bf16ToFloat(loadU16(b)); }

void dqQ4_0(const uint8_t *b, float *y) {
  float d = loadF16(b);
  const uint8_t *qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = float((qs[j] & 0xF) - 8) * d;
    y[j + 16] = float((qs[j] >> 4) - 8) * d;
  }
}
void dqQ4_1(const uint8_t *b, float *y) {
  float d = loadF16(b), m = loadF16(b + 2);
  const uint8_t *qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = float(qs[j] & 0xF) * d + m;
    y[j + 16] = float(qs[j] >> 4) * d + m;
  }
}
uint32_t loadU32(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
void dqQ5_0(const uint8_t *b, float *y) {
  float d = loadF16(b);
  uint32_t qh = loadU32(b + 2);
  const uint8_t *qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
    y[j] = float(((qs[j] & 0xF) | h0) - 16) * d;
    y[j + 16] = float(((qs[j] >> 4) | h1) - 16) * d;
  }
}
void dqQ5_1(const uint8_t *b, float *y) {
  float d = loadF16(b), m = loadF16(b + 2);
  uint32_t qh = loadU32(b + 4);
  const uint8_t *qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
    y[j] = float((qs[j] & 0xF) | h0) * d + m;
    y[j + 16] = float((qs[j] >> 4) | h1) * d + m;
  }
}
void dqQ8_0(const uint8_t *b, float *y) {
  float d = loadF16(b);
  for (int j = 0; j < 32; ++j)
    y[j] = float(int8_t(b[2 + j])) * d;
}

void dqQ2_K(const uint8_t *b, float *y) {
  const uint8_t *scales = b, *q = b + 16;
  float d = loadF16(b + 80), dmin = loadF16(b + 82);
  int is = 0;
  for (int n = 0; n < QK_K; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2)
      for (int half = 0; half < 2; ++half) {
        uint8_t sc = scales[is++];
        float dl = d * float(sc & 0xF), ml = dmin * float(sc >> 4);
        for (int l = 0; l < 16; ++l)
          *y++ = dl * float((q[l + 16 * half] >> shift) & 3) - ml;
      }
}

void dqQ3_K(const uint8_t *b, float *y) {
  const uint8_t *hm = b, *q = b + 32;
  float dAll = loadF16(b + 108);
  uint32_t aux[4];
  std::memcpy(aux, b + 96, 12);
  const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
  uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
  aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
  aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
  aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
  int8_t scales[16];
  std::memcpy(scales, aux, 16);
  int is = 0;
  uint8_t m = 1;
  for (int n = 0; n < QK_K; n += 128, q += 32)
    for (int shift = 0; shift < 8; shift += 2, m <<= 1)
      for (int half = 0; half < 2; ++half) {
        float dl = dAll * float(scales[is++] - 32);
        for (int l = 0; l < 16; ++l) {
          int idx = l + 16 * half;
          int v = ((q[idx] >> shift) & 3) - ((hm[idx] & m) ? 0 : 4);
          *y++ = dl * float(v);
        }
      }
}


void dqQ4_K(const uint8_t *b, float *y) {
  float d = loadF16(b), dmin = loadF16(b + 2);
  const uint8_t *scales = b + 4, *q = b + 16;
  for (int is = 0; is < 8; is += 2, q += 32) {
    uint8_t sc, m;
    scaleMinK4(is, scales, sc, m);
    float d1 = d * sc, m1 = dmin * m;
    scaleMinK4(is + 1, scales, sc, m);
    float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * float(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * float(q[l] >> 4) - m2;
  }
}

void dqQ5_K(const uint8_t *b, float *y) {
  float d = loadF16(b), dmin = loadF16(b + 2);
  const uint8_t *scales = b + 4, *qh = b + 16, *ql = b + 48;
  uint8_t u1 = 1, u2 = 2;
  for (int is = 0; is < 8; is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    uint8_t sc, m;
    scaleMinK4(is, scales, sc, m);
    float d1 = d * sc, m1 = dmin * m;
    scaleMinK4(is + 1, scales, sc, m);
    float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l)
      *y++ = d1 * float((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l)
      *y++ = d2 * float((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
  }
}

void dqQ6_K(const uint8_t *b, float *y) {
  const uint8_t *ql = b, *qh = b + 128;
  const int8_t *sc = reinterpret_cast<const int8_t *>(b + 192);
  float d = loadF16(b + 208);
  for (int n = 0; n < QK_K; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
    for (int l = 0; l < 32; ++l) {
      int is = l / 16;
      int q1 = int8_t((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      int q2 = int8_t((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      int q3 = int8_t((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      int q4 = int8_t((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * sc[is] * q1;
      y[l + 32] = d * sc[is + 2] * q2;
      y[l + 64] = d * sc[is + 4] * q3;
      y[l + 96] = d * sc[is + 6] * q4;
    }
}

void dqIQ4_NL(const uint8_t *b, float *y) {
  float d = loadF16(b);
  const uint8_t *qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = d * kIQ4Values[qs[j] & 0xF];
    y[j + 16] = d * kIQ4Values[qs[j] >> 4];
  }
}

void dqIQ4_XS(const uint8_t *b, float *y) {
  float d = loadF16(b);
  uint16_t scalesH = loadU16(b + 2);
  const uint8_t *scalesL = b + 4, *qs = b + 8;
  for (int ib = 0; ib < 8; ++ib, qs += 16, y += 32) {
    int ls = ((scalesL[ib / 2] >> 4 * (ib % 2)) & 0xF) |
             (((scalesH >> 2 * ib) & 3) << 4);
    float dl = d * float(ls - 32);
    for (int j = 0; j < 16; ++j) {
      y[j] = dl * kIQ4Values[qs[j] & 0xF];
      y[j + 16] = dl * kIQ4Values[qs[j] >> 4];
    }
  }
}

/// e2m1 values doubled (ggml's kvalues_mxfp4), against 2^(e - 128).
const int8_t kMXFP4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

void dqMXFP4(const uint8_t *b, float *y) {
  float d = std::ldexp(1.0f, int(b[0]) - 128);
  for (int j = 0; j < 16; ++j) {
    y[j] = d * kMXFP4Values[b[1 + j] & 0xF];
    y[j + 16] = d * kMXFP4Values[b[1 + j] >> 4];
  }
}

// --- quantization of one block (ggml's *_ref arithmetic) -------------------

void qF32(const float *x, uint8_t *b) { storeF32(b, *x); }
void qF16(const float *x, uint8_t *b) { storeU16(b, floatToHalf(*x)); }
void qBF16(const float *x, uint8_t *b) { storeU16(b, floatToBf16(*x)); }

/// The element of largest magnitude, sign kept (first one on ties).
float signedAbsMax(const float *x, int n) {
  float amax;
  return signedExtreme(x, n, amax);
}

void qQ4_0(const float *x, uint8_t *b) {
  float d = signedAbsMax(x, 32) / -8.0f;
  float id = inverseScale(d);
  storeU16(b, floatToHalf(d));
  for (int j = 0; j < 16; ++j) {
    uint8_t x0 = std::min<int8_t>(15, int8_t(x[j] * id + 8.5f));
    uint8_t x1 = std::min<int8_t>(15, int8_t(x[16 + j] * id + 8.5f));
    b[2 + j] = uint8_t(x0 | (x1 << 4));
  }
}
void qQ4_1(const float *x, uint8_t *b) {
  float lo = *std::min_element(x, x + 32), hi = *std::max_element(x, x + 32);
  float d = (hi - lo) / 15.0f;
  float id = inverseScale(d);
  storeU16(b, floatToHalf(d));
  storeU16(b + 2, floatToHalf(lo));
  for (int j = 0; j < 16; ++j) {
    uint8_t x0 = std::min<int8_t>(15, int8_t((x[j] - lo) * id + 0.5f));
    uint8_t x1 = std::min<int8_t>(15, int8_t((x[16 + j] - lo) * id + 0.5f));
    b[4 + j] = uint8_t(x0 | (x1 << 4));
  }
}
void qQ5_0(const float *x, uint8_t *b) {
  float d = signedAbsMax(x, 32) / -16.0f;
  float id = inverseScale(d);
  storeU16(b, floatToHalf(d));
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    uint8_t x0 = std::min<int8_t>(31, int8_t(x[j] * id + 16.5f));
    uint8_t x1 = std::min<int8_t>(31, int8_t(x[16 + j] * id + 16.5f));
    b[6 + j] = uint8_t((x0 & 0x0F) | ((x1 & 0x0F) << 4));
    qh |= uint32_t((x0 & 0x10) >> 4) << j;
    qh |= uint32_t((x1 & 0x10) >> 4) << (j + 16);
  }
  std::memcpy(b + 2, &qh, 4);
}
void qQ5_1(const float *x, uint8_t *b) {
  float lo = *std::min_element(x, x + 32), hi = *std::max_element(x, x + 32);
  float d = (hi - lo) / 31.0f;
  float id = inverseScale(d);
  storeU16(b, floatToHalf(d));
  storeU16(b + 2, floatToHalf(lo));
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    uint8_t x0 = uint8_t((x[j] - lo) * id + 0.5f);
    uint8_t x1 = uint8_t((x[16 + j] - lo) * id + 0.5f);
    b[8 + j] = uint8_t((x0 & 0x0F) | ((x1 & 0x0F) << 4));
    qh |= uint32_t((x0 & 0x10) >> 4) << j;
    qh |= uint32_t((x1 & 0x10) >> 4) << (j + 16);
  }
  std::memcpy(b + 4, &qh, 4);
}
void qQ8_0(const float *x, uint8_t *b) {
  float amax = 0;
  for (int j = 0; j < 32; ++j)
    amax = std::max(amax, std::fabs(x[j]));
  float d = amax / 127.0f;
  float id = inverseScale(d);
  storeU16(b, floatToHalf(d));
  for (int j = 0; j < 32; ++j)
    b[2 + j] = uint8_t(int8_t(std::roundf(x[j] * id)));
}

/// The shared exponent puts the block's largest magnitude in [4, 8) of the
/// doubled grid (top value 12), then each weight takes its nearest value.
void qMXFP4(const float *x, uint8_t *b) {
  float amax = 0;
  for (int j = 0; j < 32; ++j)
    amax = std::max(amax, std::fabs(x[j]));
  int e = amax > 0 ? std::clamp(int(std::floor(std::log2(amax))) - 2 + 127, 0, 255) : 0;
  b[0] = uint8_t(e);
  float d = std::ldexp(1.0f, e - 128);
  auto nearest = [&](float v) {
    int best = 0;
    for (int i = 1; i < 16; ++i)
      if (std::fabs(kMXFP4Values[i] * d - v) < std::fabs(kMXFP4Values[best] * d - v))
        best = i;
    return uint8_t(best);
  };
  for (int j = 0; j < 16; ++j)
    b[1 + j] = uint8_t(nearest(x[j]) | nearest(x[16 + j]) << 4);
}

/// Every ggml type with its block layout and the codec functions qc has.
void q2KRow(const float *in, int64_t n, const float *, uint8_t *out) {
  quantizeQ2KRow(in, n, out);
}

struct TypeRow {
  GGMLType type;
  const char *name;
  int64_t blockSize, blockBytes;
  BlockDequant dequant;
  RowQuant quant;
};
const TypeRow kTypes[] = {
    {GGMLType::F32, "F32", 1, 4, dqF32,
     perBlock<qF32, 1, 4>},
    {GGMLType::F16, "F16", 1, 2, dqF16,
     perBlock<qF16, 1, 2>},
    {GGMLType::Q4_0, "Q4_0", 32, 18, dqQ4_0,
     legacyWithImportance<qQ4_0, 8, 18>},
    {GGMLType::Q4_1, "Q4_1", 32, 20, dqQ4_1,
     perBlock<qQ4_1, 32, 20>},
    {GGMLType::Q5_0, "Q5_0", 32, 22, dqQ5_0,
     legacyWithImportance<qQ5_0, 16, 22>},
    {GGMLType::Q5_1, "Q5_1", 32, 24, dqQ5_1,
     perBlock<qQ5_1, 32, 24>},
    {GGMLType::Q8_0, "Q8_0", 32, 34, dqQ8_0,
     perBlock<qQ8_0, 32, 34>},
    {GGMLType::Q8_1, "Q8_1", 32, 36, nullptr, nullptr},
    {GGMLType::Q2_K, "Q2_K", QK_K, 84, dqQ2_K, q2KRow},
    {GGMLType::Q3_K, "Q3_K", QK_K, 110, dqQ3_K,
     perBlock<quantizeQ3KBlock, QK_K, 110>},
    {GGMLType::Q4_K, "Q4_K", QK_K, 144, dqQ4_K,
     perBlock<quantizeQ4KBlock, QK_K, 144>},
    {GGMLType::Q5_K, "Q5_K", QK_K, 176, dqQ5_K,
     perBlock<quantizeQ5KBlock, QK_K, 176>},
    {GGMLType::Q6_K, "Q6_K", QK_K, 210, dqQ6_K,
     perBlockWithImportance<quantizeQ6KBlock, QK_K, 210>},
    {GGMLType::Q8_K, "Q8_K", QK_K, 292, nullptr, nullptr},
    {GGMLType::IQ2_XXS, "IQ2_XXS", QK_K, 66, nullptr, nullptr},
    {GGMLType::IQ2_XS, "IQ2_XS", QK_K, 74, nullptr, nullptr},
    {GGMLType::IQ3_XXS, "IQ3_XXS", QK_K, 98, nullptr, nullptr},
    {GGMLType::IQ1_S, "IQ1_S", QK_K, 50, nullptr, nullptr},
    {GGMLType::IQ4_NL, "IQ4_NL", 32, 18, dqIQ4_NL,
     perBlockWithImportance<quantizeIQ4NLBlock, 32, 18>},
    {GGMLType::IQ3_S, "IQ3_S", QK_K, 110, nullptr, nullptr},
    {GGMLType::IQ2_S, "IQ2_S", QK_K, 82, nullptr, nullptr},
    {GGMLType::IQ4_XS, "IQ4_XS", QK_K, 136, dqIQ4_XS,
     perBlockWithImportance<quantizeIQ4XSBlock, QK_K, 136>},
    {GGMLType::I8, "I8", 1, 1, nullptr, nullptr},
    {GGMLType::I16, "I16", 1, 2, nullptr, nullptr},
    {GGMLType::I32, "I32", 1, 4, nullptr, nullptr},
    {GGMLType::I64, "I64", 1, 8, nullptr, nullptr},
    {GGMLType::F64, "F64", 1, 8, nullptr, nullptr},
    {GGMLType::IQ1_M, "IQ1_M", QK_K, 56, nullptr, nullptr},
    {GGMLType::BF16, "BF16", 1, 2, dqBF16,
     perBlock<qBF16, 1, 2>},
    {GGMLType::MXFP4, "MXFP4", 32, 17, dqMXFP4,
     perBlock<qMXFP4, 32, 17>},
};

GGMLTypeInfo infoOf(const TypeRow &row) {
  return {row.type, row.name, row.blockSize, row.blockBytes,
          row.dequant != nullptr, row.quant != nullptr};
}

class GGMLCodec final : public Codec {
public:
  explicit GGMLCodec(const TypeRow &row) : row(row) {}

  std::string name() const override { return row.name; }
  int64_t blockSize() const override { return row.blockSize; }
  int64_t blockBytes() const override { return row.blockBytes; }
  Layout layout() const override { return ggmlLayout(row.type); }
  std::string checkRowLength(int64_t cols) const override {
    std::string why = Codec::checkRowLength(cols);
    if (!why.empty() || cols % row.blockSize == 0)
      return why;
    return std::string(row.name) + " stores rows in blocks of " +
           std::to_string(row.blockSize) + " weights; a row of " +
           std::to_string(cols) + " is not a multiple";
  }

  std::string quantize(const float *src, int64_t rows, int64_t cols,
                       const float *importance, uint8_t *dst) const override {
    std::string why = checkRowLength(cols);
    if (!why.empty())
      return why;
    if (!row.quant)
      return std::string("qc cannot write ") + row.name + " blocks yet";
    if (!importance) { // as llama-quantize: the whole input at once
      row.quant(src, rows * cols, nullptr, dst);
      return {};
    }
    int64_t bytes = (cols / row.blockSize) * row.blockBytes;
    for (int64_t r = 0; r < rows; ++r)
      row.quant(src + r * cols, cols, importance, dst + r * bytes);
    return {};
  }

  void dequantize(const uint8_t *src, int64_t rows, int64_t cols,
                  float *dst) const override {
    int64_t blocks = rows * (cols / row.blockSize);
    for (int64_t i = 0; i < blocks; ++i)
      row.dequant(src + i * row.blockBytes, dst + i * row.blockSize);
  }

private:
  TypeRow row;
};

/// Every type qc has a codec for, under its llama.cpp name.
const struct GGMLRegistration {
  GGMLRegistration() {
    for (const TypeRow &row : kTypes)
      if (row.dequant)
        registerFormat(
            {row.name,
             std::string(row.name) + ": llama.cpp's (ggml) block layout, byte for byte",
             [&row](const std::string &params, std::string &why) -> std::unique_ptr<Codec> {
               if (!params.empty()) {
                 why = std::string(row.name) + " takes no parameters";
                 return nullptr;
               }
               return std::make_unique<GGMLCodec>(row);
             }});
  }
} kRegisterGGML;

} // namespace

std::optional<GGMLTypeInfo> ggmlTypeInfo(uint32_t id) {
  for (const TypeRow &row : kTypes)
    if (uint32_t(row.type) == id)
      return infoOf(row);
  return std::nullopt;
}

std::optional<GGMLTypeInfo> ggmlTypeByName(std::string_view name) {
  for (const TypeRow &row : kTypes)
    if (name == row.name)
      return infoOf(row);
  return std::nullopt;
}

std::string ggmlTypesWithCodecs() {
  std::string names;
  for (const TypeRow &row : kTypes)
    if (row.dequant)
      names += (names.empty() ? "" : ", ") + std::string(row.name);
  return names;
}

std::unique_ptr<Codec> makeGGMLCodec(GGMLType type) {
  for (const TypeRow &row : kTypes)
    if (row.type == type && row.dequant)
      return std::make_unique<GGMLCodec>(row);
  return nullptr;
}

} // namespace qc::formats
