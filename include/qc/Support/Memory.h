//===- Memory.h - What this machine can hold --------------------*- C++ -*-===//
#ifndef QC_SUPPORT_MEMORY_H
#define QC_SUPPORT_MEMORY_H

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace qc {

/// Bytes the kernel reports it can give without swapping (MemAvailable in
/// /proc/meminfo); -1 when unknown.
inline int64_t availableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  int64_t kb;
  std::string unit;
  while (meminfo >> key >> kb >> unit)
    if (key == "MemAvailable:")
      return kb * 1024;
  return -1;
}

/// "1.23 GB"
inline std::string gigabytes(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GB", bytes / 1e9);
  return buf;
}

} // namespace qc

#endif // QC_SUPPORT_MEMORY_H
