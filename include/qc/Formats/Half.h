//===- Half.h - IEEE half and bfloat16 conversions --------------*- C++ -*-===//
//
// Bit-exact with ggml: fp32->fp16 rounds to nearest even (as F16C's
// _cvtss_sh(x, 0)); fp32->bf16 rounds to nearest even and quiets NaNs.
//
//===----------------------------------------------------------------------===//
#ifndef QC_FORMATS_HALF_H
#define QC_FORMATS_HALF_H

#include <cstdint>
#include <cstring>

namespace qc::formats {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  if (exp == 0x1f)
    return bitsFloat(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0)
      return bitsFloat(sign);
    // Subnormal: value = mant * 2^-24.
    float v = float(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bitsFloat(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t floatToHalf(float f) {
  uint32_t x = floatBits(f);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t absx = x & 0x7fffffffu;
  if (absx >= 0x7f800000u) // inf or nan
    return uint16_t(sign | 0x7c00 | (absx > 0x7f800000u ? 0x200 : 0));
  if (absx >= 0x477ff000u) // rounds to >= 65520: overflow to inf
    return uint16_t(sign | 0x7c00);
  if (absx < 0x38800000u) { // below the smallest normal half: subnormal
    // Add 0.5 (in float) so the FPU does the round-to-nearest-even for us.
    float v = bitsFloat(absx) + 0.5f;
    return uint16_t(sign | (floatBits(v) - floatBits(0.5f)));
  }
  uint32_t mantOdd = (absx >> 13) & 1;
  absx += 0xc8000fffu + mantOdd; // rebias exponent (-112 << 23) and round
  return uint16_t(sign | (absx >> 13));
}

inline float bf16ToFloat(uint16_t h) { return bitsFloat(uint32_t(h) << 16); }

inline uint16_t floatToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) // nan: force quiet
    return uint16_t((u >> 16) | 64);
  return uint16_t((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

/// Rounds through half precision and back: what a stored f16 scale holds.
inline float roundToHalf(float f) { return halfToFloat(floatToHalf(f)); }

} // namespace qc::formats

#endif // QC_FORMATS_HALF_H
