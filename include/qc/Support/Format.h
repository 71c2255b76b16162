//===- Format.h - Numbers in messages ---------------------------*- C++ -*-===//
#ifndef QC_SUPPORT_FORMAT_H
#define QC_SUPPORT_FORMAT_H

#include <cstdio>
#include <string>

namespace qc {

/// A number as a person wrote it: 4, 3.5, -3, 70000 (not 70000.000000);
/// integers up to 10^15 in full.
inline std::string shortNumber(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", v);
  return text;
}

} // namespace qc

#endif // QC_SUPPORT_FORMAT_H
