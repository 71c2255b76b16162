//===- ScaleIO.h - Reading and writing stored scales ------------*- C++ -*-===//
#ifndef QC_LIB_FORMATS_SCALEIO_H
#define QC_LIB_FORMATS_SCALEIO_H

#include "qc/Formats/Codec.h"
#include "qc/Formats/Half.h"

#include <cstdint>
#include <cstring>

namespace qc::formats {

inline void storeU16(uint8_t *p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
inline uint16_t loadU16(const uint8_t *p) { return uint16_t(p[0] | p[1] << 8); }
inline void storeF32(uint8_t *p, float v) { std::memcpy(p, &v, 4); }
inline float loadF32(const uint8_t *p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}
inline float loadF16(const uint8_t *p) { return halfToFloat(loadU16(p)); }

/// The value a scale of `type` holds after storing `v`.
inline float roundScale(ScaleType type, float v) {
  switch (type) {
  case ScaleType::F16: return roundToHalf(v);
  case ScaleType::BF16: return bf16ToFloat(floatToBf16(v));
  case ScaleType::F32: return v;
  }
  return v;
}
inline void storeScale(ScaleType type, uint8_t *p, float v) {
  switch (type) {
  case ScaleType::F16: storeU16(p, floatToHalf(v)); break;
  case ScaleType::BF16: storeU16(p, floatToBf16(v)); break;
  case ScaleType::F32: storeF32(p, v); break;
  }
}
inline float loadScale(ScaleType type, const uint8_t *p) {
  switch (type) {
  case ScaleType::F16: return loadF16(p);
  case ScaleType::BF16: return bf16ToFloat(loadU16(p));
  case ScaleType::F32: return loadF32(p);
  }
  return 0.0f;
}

/// The nearest integer to v, ties to even, as a float (|v| < 2^22): 1.5 *
/// 2^23 added and taken away. Branch-free, so loops over it vectorise.
inline float nearestIntegral(float v) {
  return (v + 12582912.0f) - 12582912.0f;
}
/// The same as an int, as ggml's nearest_int (the sum's low mantissa bits).
inline int nearestInt(float v) {
  float shifted = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &shifted, 4);
  return (i & 0x007fffff) - 0x00400000;
}

/// 1/d, or 0 for d = 0 and for a d so small that 1/d overflows: such a d
/// stores as a zero scale anyway, so the codes do not matter, and an
/// infinite 1/d would make them undefined (float to int of inf or NaN).
inline float inverseScale(float d) {
  float id = d != 0.0f ? 1.0f / d : 0.0f;
  return id <= 3.4e38f && id >= -3.4e38f ? id : 0.0f;
}

} // namespace qc::formats

#endif // QC_LIB_FORMATS_SCALEIO_H
