//===- IQ4.cpp - llama.cpp's IQ4_NL and IQ4_XS quantizers (no importance) -===//
//
// 4-bit indices into a fixed non-linear codebook. Per 32 weights a scale
// search (15 trial scales either way, then moving single indices while the
// weighted fit improves); IQ4_XS then stores the 32-weight scales as 6-bit
// steps of one f16 scale per 256 weights.
//
//===----------------------------------------------------------------------===//
#include "KQuants.h"
#include "ScaleIO.h"

#include <algorithm>
#include <cmath>

namespace qc::formats {

const int8_t kIQ4Values[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                               1,    13,   25,  38,  53,  69,  89,  113};

namespace {

const int8_t *const kValues = kIQ4Values;

/// Index of the nearest codebook value (ties to the larger).
int nearestIndex(float x) {
  if (x <= kValues[0])
    return 0;
  if (x >= kValues[15])
    return 15;
  int hi = int(std::upper_bound(kValues, kValues + 16, x) - kValues);
  int lo = hi - 1;
  return x - kValues[lo] < kValues[hi] - x ? lo : hi;
}

/// The scale of one 32-weight block and its indices. Weights x^2, or with
/// importance imp * sqrt(sigma2 + x^2) (sigma2 from the super-block).
float fitBlock(const float *xb, uint8_t *L, const float *imp, float sigma2) {
  constexpr int n = 32, ntry = 7;
  float weight[n];
  for (int j = 0; j < n; ++j)
    weight[j] = imp ? imp[j] * std::sqrt(sigma2 + xb[j] * xb[j])
                    : xb[j] * xb[j];
  float amax;
  float max = signedExtreme(xb, n, amax);
  if (amax < 1e-15f) {
    std::fill(L, L + n, 0);
    return 0;
  }
  float d = -max / kValues[0];
  float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int j = 0; j < n; ++j) {
    int l = nearestIndex(id * xb[j]);
    L[j] = uint8_t(l);
    float q = kValues[l];
    sumqx += weight[j] * q * xb[j];
    sumq2 += weight[j] * q * q;
  }
  d = sumqx / sumq2;
  float best = d * sumqx;
  float bestSumqx = sumqx, bestSumq2 = sumq2;
  auto tryScale = [&](float is) {
    float sqx = 0, sq2 = 0;
    for (int j = 0; j < n; ++j) {
      float q = kValues[nearestIndex(is * xb[j])];
      sqx += weight[j] * q * xb[j];
      sq2 += weight[j] * q * q;
    }
    if (sq2 > 0 && sqx * sqx > best * sq2) {
      d = sqx / sq2;
      best = d * sqx;
      bestSumqx = sqx;
      bestSumq2 = sq2;
      for (int j = 0; j < n; ++j)
        L[j] = uint8_t(nearestIndex(is * xb[j]));
    }
  };
  for (int itry = -ntry; itry <= ntry; ++itry) {
    tryScale((itry + kValues[0]) / max);
    tryScale((itry + kValues[15]) / max);
  }
  sumqx = bestSumqx;
  sumq2 = bestSumq2;
  for (int iter = 0; iter < 32 * n; ++iter) {
    float minStep = INFINITY;
    int bestJ = -1, dir = 0;
    for (int j = 0; j < n; ++j) {
      float g = d * weight[j] * (xb[j] - d * kValues[L[j]]);
      if (g > 0 && L[j] < 15) {
        float step = (kValues[L[j] + 1] - kValues[L[j]]) / g;
        if (step < minStep) {
          minStep = step;
          bestJ = j;
          dir = 1;
        }
      } else if (g < 0 && L[j] > 0) {
        float step = (kValues[L[j] - 1] - kValues[L[j]]) / g;
        if (step < minStep) {
          minStep = step;
          bestJ = j;
          dir = -1;
        }
      }
    }
    if (bestJ < 0)
      break;
    float w = weight[bestJ];
    float now = kValues[L[bestJ]], next = kValues[L[bestJ] + dir];
    float newSumqx = sumqx + w * xb[bestJ] * (next - now);
    float newSumq2 = sumq2 + w * (next * next - now * now);
    if (newSumq2 > 0 && newSumqx * newSumqx > best * newSumq2) {
      sumqx = newSumqx;
      sumq2 = newSumq2;
      d = sumqx / sumq2;
      best = d * sumqx;
      L[bestJ] = uint8_t(L[bestJ] + dir);
    } else {
      break;
    }
  }
  return d;
}

float superBlockSigma2(const float *x, int n) {
  float s = 0;
  for (int j = 0; j < n; ++j)
    s += x[j] * x[j];
  return s * (2.f / n);
}

void packNibbles(const uint8_t *L, int n, uint8_t *q4) {
  for (int i = 0; i < n / 32; ++i)
    for (int j = 0; j < 16; ++j)
      q4[16 * i + j] = uint8_t(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

} // namespace

void quantizeIQ4NLBlock(const float *x, uint8_t *b, const float *importance) {
  uint8_t L[32];
  float d = fitBlock(x, L, importance, superBlockSigma2(x, 32));
  storeU16(b, floatToHalf(d));
  if (d) { // re-round against the scale as stored
    float id = 1 / d;
    for (int j = 0; j < 32; ++j)
      L[j] = uint8_t(nearestIndex(id * x[j]));
  }
  packNibbles(L, 32, b + 2);
}

void quantizeIQ4XSBlock(const float *x, uint8_t *b, const float *importance) {
  uint8_t L[256];
  float scales[8], maxScale = 0, amaxScale = 0;
  float sigma2 = superBlockSigma2(x, 256);
  for (int ib = 0; ib < 8; ++ib) {
    scales[ib] = fitBlock(x + 32 * ib, L + 32 * ib,
                          importance ? importance + 32 * ib : nullptr, sigma2);
    if (std::fabs(scales[ib]) > amaxScale) {
      amaxScale = std::fabs(scales[ib]);
      maxScale = scales[ib];
    }
  }
  uint16_t scalesH = 0;
  uint8_t *scalesL = b + 4;
  std::fill(scalesL, scalesL + 4, 0);
  float d = -maxScale / 32;
  storeU16(b, floatToHalf(d));
  float id = inverseScale(d);
  for (int ib = 0; ib < 8; ++ib) {
    int l = std::max(-32, std::min(31, nearestInt(id * scales[ib])));
    float dl = d * l;
    float idl = inverseScale(dl);
    for (int j = 0; j < 32; ++j)
      L[32 * ib + j] = uint8_t(nearestIndex(idl * x[32 * ib + j]));
    l += 32;
    uint8_t low = uint8_t(l & 0xF), high = uint8_t(l >> 4);
    if (ib % 2 == 0)
      scalesL[ib / 2] = low;
    else
      scalesL[ib / 2] |= uint8_t(low << 4);
    scalesH |= uint16_t(high << (2 * ib));
  }
  storeU16(b + 2, scalesH);
  packNibbles(L, 256, b + 8);
}

} // namespace qc::formats
