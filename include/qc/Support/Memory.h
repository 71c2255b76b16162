//===- Memory.h - What this machine can hold --------------------*- C++ -*-===//
//
// Steps that cannot stream (the f32 reference, every X^T X at once, GPTQ's
// block state) check their need against this before allocating, so a model
// too large for the machine gets one clear error instead of an
// out-of-memory kill halfway through.
//
//===----------------------------------------------------------------------===//
#ifndef QC_SUPPORT_MEMORY_H
#define QC_SUPPORT_MEMORY_H

#include "qc/Model/Model.h"

#include <sys/resource.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace qc {

namespace detail {
/// The first number in `path`, or -1 ("max" and unreadable files too).
inline int64_t readNumber(const char *path) {
  std::ifstream in(path);
  int64_t v;
  return in >> v ? v : -1;
}
/// `wanted`'s value in a "Key: value kB" file such as /proc/meminfo or
/// /proc/self/status, in bytes; -1 when absent.
inline int64_t readKilobytes(const char *path, const std::string &wanted) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, wanted.size(), wanted) == 0)
      return std::strtoll(line.c_str() + wanted.size(), nullptr, 10) * 1024;
  return -1;
}
inline void lower(int64_t &bound, int64_t v) {
  if (v >= 0 && (bound < 0 || v < bound))
    bound = v;
}
} // namespace detail

/// Bytes this process can still allocate without swapping or being killed:
/// the least of MemAvailable, the cgroup's memory.max headroom, the
/// address-space limit's headroom (ulimit -v) and QC_MEMORY_LIMIT (bytes, or
/// with a K/M/G suffix), which caps what qc plans on; -1 when none is known.
inline int64_t availableMemoryBytes() {
  int64_t bound = -1;
  detail::lower(bound, detail::readKilobytes("/proc/meminfo", "MemAvailable:"));
  int64_t cgroupMax = detail::readNumber("/sys/fs/cgroup/memory.max");
  int64_t cgroupUsed = detail::readNumber("/sys/fs/cgroup/memory.current");
  if (cgroupMax > 0 && cgroupUsed >= 0)
    detail::lower(bound, std::max<int64_t>(0, cgroupMax - cgroupUsed));
  rlimit as{};
  if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY) {
    int64_t mapped = detail::readKilobytes("/proc/self/status", "VmSize:");
    detail::lower(bound, std::max<int64_t>(0, int64_t(as.rlim_cur) -
                                                  std::max<int64_t>(0, mapped)));
  }
  if (const char *cap = std::getenv("QC_MEMORY_LIMIT")) {
    char *end = nullptr;
    double v = std::strtod(cap, &end);
    double scale = 1;
    if (*end) {
      const char *suffixes = "KMG";
      char upper = char(std::toupper(static_cast<unsigned char>(*end)));
      const char *at = end[1] ? nullptr : std::strchr(suffixes, upper);
      scale = at ? double(int64_t(1) << (10 * (at - suffixes + 1))) : 0;
    }
    if (end == cap || !(v >= 0) || !(v * scale < 9e18) || scale == 0)
      throw model::FormatError("QC_MEMORY_LIMIT='" + std::string(cap) +
                               "': expected bytes with an optional K, M or "
                               "G suffix");
    detail::lower(bound, int64_t(v * scale));
  }
  return bound;
}

/// "1.23 GB", "4.56 MB", "789 KB": three significant figures at most.
inline std::string byteSize(double bytes) {
  const char *units[] = {"bytes", "KB", "MB", "GB", "TB"};
  int unit = 0;
  while (unit < 4 && bytes >= 1000) {
    bytes /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit ? "%.3g %s" : "%.0f %s", bytes,
                units[unit]);
  return buf;
}

/// Throws a FormatError saying that `what` needs `bytes`, what is available
/// and `advice`, when the need is larger than what this process can get.
inline void requireMemory(double bytes, const std::string &what,
                          const std::string &advice) {
  int64_t available = availableMemoryBytes();
  if (available >= 0 && bytes > double(available))
    throw model::FormatError(what + " needs about " + byteSize(bytes) + ", " +
                             byteSize(double(available)) +
                             " is available: " + advice);
}

} // namespace qc

#endif // QC_SUPPORT_MEMORY_H
