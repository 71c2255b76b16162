//===- KQuants.cpp - llama.cpp's k-quant quantizers (no importance) -------===//
//
// The reference quantizers of Q2_K..Q6_K as llama-quantize runs them without
// an imatrix, so the bytes match: per 16- or 32-weight sub-block a scale
// (and min) search, then the scales themselves quantized to 4 or 6 bits
// against one f16 super-block scale, then codes re-rounded against the
// stored scales. Arithmetic follows ggml's order (f32 accumulation, round
// half to even).
//
//===----------------------------------------------------------------------===//
#include "KQuants.h"
#include "ScaleIO.h"

#include <algorithm>
#include <cmath>

namespace qc::formats {

namespace {

constexpr int QK = 256;
constexpr float kGroupMaxEps = 1e-15f;

} // namespace

/// Signed codes in [-nmax, nmax) (stored + nmax) with a weighted
/// least-squares scale (weights `qw`, or x^2), searching 19 scales either
/// side and then moving single codes.
float makeQxQuants(int n, int nmax, const float *x, int8_t *L,
                   const float *qw) {
  float amax;
  float max = signedExtreme(x, n, amax);
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, 0);
    return 0.0f;
  }
  auto weightOf = [&](int i) { return qw ? qw[i] : x[i] * x[i]; };
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = std::max(-nmax, std::min(nmax - 1, nearestInt(iscale * x[i])));
    L[i] = int8_t(l + nmax);
    float w = weightOf(i);
    sumlx = std::fma(w * x[i], float(l), sumlx);
    suml2 = std::fma(w * l, float(l), suml2);
  }
  float scale = suml2 ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  float bestSumlx = sumlx, bestSuml2 = suml2;
  auto tryScale = [&](float is) {
    float slx = 0, sl2 = 0;
    for (int i = 0; i < n; ++i) {
      int l = std::max(-nmax, std::min(nmax - 1, nearestInt(is * x[i])));
      float w = weightOf(i);
      slx = std::fma(w * x[i], float(l), slx);
      sl2 = std::fma(w * l, float(l), sl2);
    }
    if (sl2 > 0 && slx * slx > best * sl2) {
      for (int i = 0; i < n; ++i)
        L[i] = int8_t(nmax + std::max(-nmax, std::min(nmax - 1, nearestInt(is * x[i]))));
      scale = slx / sl2;
      best = scale * slx;
      bestSumlx = slx;
      bestSuml2 = sl2;
    }
  };
  for (int is = -9; is <= 9; ++is) {
    tryScale(-(nmax + 0.1f * is) / max);
    tryScale((nmax - 1 + 0.1f * is) / max);
  }
  sumlx = bestSumlx;
  suml2 = bestSuml2;
  for (int iter = 0; iter < n * (2 * nmax - 1); ++iter) {
    float absGmax = 0, gmax = 0;
    int bestJ = -1;
    for (int j = 0; j < n; ++j) {
      float w = weightOf(j);
      int l = L[j] - nmax;
      float g = scale * w * std::fma(-scale, float(l), x[j]);
      if ((g > 0 && l < nmax - 1) || (g < 0 && l > -nmax)) {
        float ag = std::fabs(g);
        if (ag > absGmax) {
          absGmax = ag;
          gmax = g;
          bestJ = j;
        }
      }
    }
    if (bestJ < 0)
      break;
    float newSumlx = sumlx, newSuml2 = suml2;
    float w = weightOf(bestJ);
    int l = L[bestJ] - nmax;
    if (gmax > 0) {
      newSumlx = std::fma(w, x[bestJ], newSumlx);
      newSuml2 = std::fma(w, float(2 * l + 1), newSuml2);
      l += 1;
    } else {
      newSumlx = std::fma(-w, x[bestJ], newSumlx);
      newSuml2 = std::fma(-w, float(2 * l - 1), newSuml2);
      l -= 1;
    }
    if (newSuml2 > 0 && newSumlx * newSumlx > best * newSuml2) {
      sumlx = newSumlx;
      suml2 = newSuml2;
      scale = sumlx / suml2;
      best = scale * sumlx;
      L[bestJ] = int8_t(l + nmax);
    } else {
      break;
    }
  }
  return scale;
}

namespace {

/// Unsigned codes [0, nmax] with scale and min: a grid of nstep+1 scales,
/// each refitted by weighted least squares (min clamped to <= 0).
float makeQkx2Quants(int n, int nmax, const float *x, const float *weights,
                     uint8_t *L, float *theMin, uint8_t *Laux, float rmin,
                     float rdelta, int nstep, bool useMad) {
  float min = x[0], max = x[0];
  float sumW = weights[0], sumX = sumW * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    float w = weights[i];
    sumW += w;
    sumX += w * x[i];
  }
  if (min > 0)
    min = 0;
  if (max - min < 1e-10f) {
    std::fill(L, L + n, 0);
    *theMin = -min;
    return 0.0f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float bestMad = 0;
  for (int i = 0; i < n; ++i) {
    int l = nearestInt(iscale * (x[i] - min));
    L[i] = uint8_t(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = useMad ? std::fabs(diff) : diff * diff;
    bestMad += weights[i] * diff;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sumL = 0, sumL2 = 0, sumXL = 0;
    for (int i = 0; i < n; ++i) {
      int l = std::max(0, std::min(nmax, nearestInt(iscale * (x[i] - min))));
      Laux[i] = uint8_t(l);
      float w = weights[i];
      sumL += w * l;
      sumL2 += w * l * l;
      sumXL += w * l * x[i];
    }
    float D = sumW * sumL2 - sumL * sumL;
    if (D > 0) {
      float thisScale = (sumW * sumXL - sumX * sumL) / D;
      float thisMin = (sumL2 * sumX - sumL * sumXL) / D;
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = sumXL / sumL2;
      }
      float mad = 0;
      for (int i = 0; i < n; ++i) {
        float diff = thisScale * Laux[i] + thisMin - x[i];
        diff = useMad ? std::fabs(diff) : diff * diff;
        mad += weights[i] * diff;
      }
      if (mad < bestMad) {
        std::copy(Laux, Laux + n, L);
        bestMad = mad;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  *theMin = -min;
  return scale;
}

/// Signed 3-bit codes with an x^2-weighted least-squares scale.
float makeQ3Quants(int n, int nmax, const float *x, int8_t *L) {
  float amax;
  float max = signedExtreme(x, n, amax);
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, 0);
    return 0.0f;
  }
  float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    int l = std::max(-nmax, std::min(nmax - 1, nearestInt(iscale * x[i])));
    L[i] = int8_t(l);
    float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int itry = 0; itry < 5; ++itry) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx > 0) {
        float sl2 = suml2 - w * L[i] * L[i];
        int newL = std::max(-nmax, std::min(nmax - 1, nearestInt(x[i] * sl2 / slx)));
        if (newL != L[i]) {
          slx += w * x[i] * newL;
          sl2 += w * newL * newL;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = int8_t(newL);
            sumlx = slx;
            suml2 = sl2;
            ++changed;
          }
        }
      }
    }
    if (!changed)
      break;
  }
  for (int i = 0; i < n; ++i)
    L[i] = int8_t(L[i] + nmax);
  return sumlx / suml2;
}


/// Q4_K and Q5_K share all but the code width and their search grid.
void quantizeQ45K(const float *x, uint8_t *b, int nmax, float rmin, int nstep,
                  uint8_t *L) {
  uint8_t Laux[32];
  float weights[32], mins[8], scales[8];
  float maxScale = 0, maxMin = 0;
  for (int j = 0; j < 8; ++j) {
    float sumX2 = 0;
    for (int l = 0; l < 32; ++l)
      sumX2 += x[32 * j + l] * x[32 * j + l];
    float avX = std::sqrt(sumX2 / 32);
    for (int l = 0; l < 32; ++l)
      weights[l] = avX + std::fabs(x[32 * j + l]);
    scales[j] = makeQkx2Quants(32, nmax, x + 32 * j, weights, L + 32 * j,
                               &mins[j], Laux, rmin, 0.1f, nstep, false);
    maxScale = std::max(maxScale, scales[j]);
    maxMin = std::max(maxMin, mins[j]);
  }
  uint8_t *sc = b + 4;
  std::fill(sc, sc + 12, 0);
  float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
  float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
  for (int j = 0; j < 8; ++j) {
    uint8_t ls = std::min<uint8_t>(63, uint8_t(nearestInt(invScale * scales[j])));
    uint8_t lm = std::min<uint8_t>(63, uint8_t(nearestInt(invMin * mins[j])));
    if (j < 4) {
      sc[j] = ls;
      sc[j + 4] = lm;
    } else {
      sc[j + 4] = uint8_t((ls & 0xF) | ((lm & 0xF) << 4));
      sc[j - 4] |= uint8_t((ls >> 4) << 6);
      sc[j] |= uint8_t((lm >> 4) << 6);
    }
  }
  storeU16(b, floatToHalf(maxScale / 63.f));
  storeU16(b + 2, floatToHalf(maxMin / 63.f));
  for (int j = 0; j < 8; ++j) {
    uint8_t s, m;
    scaleMinK4(j, sc, s, m);
    float d = loadF16(b) * s;
    if (!d)
      continue;
    float dm = loadF16(b + 2) * m;
    for (int i = 0; i < 32; ++i)
      L[32 * j + i] = uint8_t(
          std::max(0, std::min(nmax, nearestInt((x[32 * j + i] + dm) / d))));
  }
}

} // namespace

float signedExtreme(const float *x, int n, float &amax) {
  float max = 0;
  amax = 0;
  for (int i = 0; i < n; ++i) {
    float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  return max;
}

void scaleMinK4(int j, const uint8_t *q, uint8_t &d, uint8_t &m) {
  if (j < 4) {
    d = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    d = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

void quantizeQ4KBlock(const float *x, uint8_t *b) {
  uint8_t L[QK];
  quantizeQ45K(x, b, 15, -1.0f, 20, L);
  uint8_t *q = b + 16;
  for (int j = 0; j < QK; j += 64, q += 32)
    for (int l = 0; l < 32; ++l)
      q[l] = uint8_t(L[j + l] | (L[j + l + 32] << 4));
}

void quantizeQ5KBlock(const float *x, uint8_t *b) {
  uint8_t L[QK];
  quantizeQ45K(x, b, 31, -0.5f, 15, L);
  uint8_t *qh = b + 16, *ql = b + 48;
  std::fill(qh, qh + 32, 0);
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < QK; n += 64, m1 <<= 2, m2 <<= 2, ql += 32)
    for (int j = 0; j < 32; ++j) {
      int l1 = L[n + j], l2 = L[n + j + 32];
      if (l1 > 15) {
        l1 -= 16;
        qh[j] |= m1;
      }
      if (l2 > 15) {
        l2 -= 16;
        qh[j] |= m2;
      }
      ql[j] = uint8_t(l1 | (l2 << 4));
    }
}

void quantizeQ6KBlock(const float *x, uint8_t *b, const float *importance) {
  int8_t L[QK];
  float scales[16];
  float maxScale = 0, maxAbsScale = 0;
  for (int ib = 0; ib < 16; ++ib) {
    float scale = makeQxQuants(16, 32, x + 16 * ib, L + 16 * ib,
                               importance ? importance + 16 * ib : nullptr);
    scales[ib] = scale;
    if (std::fabs(scale) > maxAbsScale) {
      maxAbsScale = std::fabs(scale);
      maxScale = scale;
    }
  }
  std::fill(b, b + 210, 0);
  if (maxAbsScale < kGroupMaxEps)
    return; // d = 0: the block is zero
  float iscale = -128.f / maxScale;
  storeU16(b + 208, floatToHalf(1 / iscale));
  int8_t *sc = reinterpret_cast<int8_t *>(b + 192);
  for (int ib = 0; ib < 16; ++ib)
    sc[ib] = int8_t(std::min(127, nearestInt(iscale * scales[ib])));
  for (int j = 0; j < 16; ++j) {
    float d = loadF16(b + 208) * sc[j];
    if (!d)
      continue;
    for (int i = 0; i < 16; ++i)
      L[16 * j + i] = int8_t(
          std::max(-32, std::min(31, nearestInt(x[16 * j + i] / d))) + 32);
  }
  uint8_t *ql = b, *qh = b + 128;
  for (int j = 0; j < QK; j += 128, ql += 64, qh += 32)
    for (int l = 0; l < 32; ++l) {
      uint8_t q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF;
      uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
      ql[l] = uint8_t(q1 | (q3 << 4));
      ql[l + 32] = uint8_t(q2 | (q4 << 4));
      qh[l] = uint8_t((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                      ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
    }
}

void quantizeQ3KBlock(const float *x, uint8_t *b) {
  int8_t L[QK];
  float scales[16];
  float maxScale = 0, amax = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = makeQ3Quants(16, 4, x + 16 * j, L + 16 * j);
    if (std::fabs(scales[j]) > amax) {
      amax = std::fabs(scales[j]);
      maxScale = scales[j];
    }
  }
  uint8_t *hmask = b, *qs = b + 32, *sc = b + 96;
  std::fill(sc, sc + 12, 0);
  if (maxScale) {
    float iscale = -32.f / maxScale;
    for (int j = 0; j < 16; ++j) {
      int8_t l = int8_t(nearestInt(iscale * scales[j]));
      l = int8_t(std::max<int8_t>(-32, std::min<int8_t>(31, l)) + 32);
      if (j < 8)
        sc[j] = uint8_t(l & 0xF);
      else
        sc[j - 8] |= uint8_t((l & 0xF) << 4);
      l = int8_t(l >> 4);
      sc[j % 4 + 8] |= uint8_t(l << (2 * (j / 4)));
    }
    storeU16(b + 108, floatToHalf(1 / iscale));
  } else {
    storeU16(b + 108, floatToHalf(0.f));
  }
  for (int j = 0; j < 16; ++j) {
    int8_t s = int8_t(j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4);
    s = int8_t((s | (((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
    float d = loadF16(b + 108) * s;
    if (!d)
      continue;
    for (int i = 0; i < 16; ++i)
      L[16 * j + i] = int8_t(
          std::max(-4, std::min(3, nearestInt(x[16 * j + i] / d))) + 4);
  }
  std::fill(hmask, hmask + 32, 0);
  int m = 0;
  uint8_t hm = 1;
  for (int j = 0; j < QK; ++j) {
    if (L[j] > 3) {
      hmask[m] |= hm;
      L[j] = int8_t(L[j] - 4);
    }
    if (++m == QK / 8) {
      m = 0;
      hm = uint8_t(hm << 1);
    }
  }
  for (int j = 0; j < QK; j += 128)
    for (int l = 0; l < 32; ++l)
      qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) |
                              (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

void quantizeQ2KRow(const float *x, int64_t n, uint8_t *out) {
  // ik_llama.cpp first checks the whole input for a ternary network: when
  // three levels {-max, 0, max} explain 90% of its energy it stores those.
  float max = 0;
  for (int64_t j = 0; j < n; ++j)
    max = std::max(max, std::fabs(x[j]));
  float mse0 = 0, mse = 0;
  for (int64_t j = 0; j < n; ++j) {
    int l = x[j] < -0.5f * max ? -1 : x[j] < 0.5f * max ? 0 : 1;
    mse0 += x[j] * x[j];
    float diff = x[j] - max * l;
    mse += diff * diff;
  }
  uint8_t L[QK];
  if (mse < 0.1f * mse0) {
    for (int64_t i = 0; i < n / QK; ++i) {
      uint8_t *b = out + i * 84;
      storeU16(b + 80, floatToHalf(max));
      storeU16(b + 82, floatToHalf(max));
      std::fill(b, b + 16, uint8_t(1 | (1 << 4)));
      const float *xb = x + i * QK;
      for (int j = 0; j < QK; ++j)
        L[j] = xb[j] < -0.5f * max ? 0 : xb[j] < 0.5f * max ? 1 : 2;
      uint8_t *qs = b + 16;
      for (int j = 0; j < QK; j += 128, qs += 32)
        for (int l = 0; l < 32; ++l)
          qs[l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) |
                          (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
    return;
  }
  const float q4scale = 15.f;
  for (int64_t i = 0; i < n / QK; ++i, x += QK) {
    uint8_t *b = out + i * 84, *sc = b, *qs = b + 16;
    uint8_t Laux[16];
    float weights[16], mins[16], scales[16];
    float maxScale = 0, maxMin = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l)
        weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = makeQkx2Quants(16, 3, x + 16 * j, weights, L + 16 * j,
                                 &mins[j], Laux, -0.5f, 0.1f, 15, true);
      maxScale = std::max(maxScale, scales[j]);
      maxMin = std::max(maxMin, mins[j]);
    }
    if (maxScale > 0) {
      float iscale = q4scale / maxScale;
      for (int j = 0; j < 16; ++j)
        sc[j] = uint8_t(nearestInt(iscale * scales[j]));
      storeU16(b + 80, floatToHalf(maxScale / q4scale));
    } else {
      std::fill(sc, sc + 16, 0);
      storeU16(b + 80, floatToHalf(0.f));
    }
    if (maxMin > 0) {
      float iscale = q4scale / maxMin;
      for (int j = 0; j < 16; ++j)
        sc[j] |= uint8_t(nearestInt(iscale * mins[j]) << 4);
      storeU16(b + 82, floatToHalf(maxMin / q4scale));
    } else {
      storeU16(b + 82, floatToHalf(0.f));
    }
    for (int j = 0; j < 16; ++j) {
      float d = loadF16(b + 80) * (sc[j] & 0xF);
      if (!d)
        continue;
      float dm = loadF16(b + 82) * (sc[j] >> 4);
      for (int l = 0; l < 16; ++l)
        L[16 * j + l] = uint8_t(
            std::max(0, std::min(3, nearestInt((x[16 * j + l] + dm) / d))));
    }
    for (int j = 0; j < QK; j += 128)
      for (int l = 0; l < 32; ++l)
        qs[j / 4 + l] = uint8_t(L[j + l] | (L[j + l + 32] << 2) |
                                (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
  }
}

} // namespace qc::formats
