//===- FuzzInput.h - Hand fuzz bytes to path-based readers ------*- C++ -*-===//
#ifndef QC_TEST_FUZZ_FUZZINPUT_H
#define QC_TEST_FUZZ_FUZZINPUT_H

#include <cstdint>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

/// The bytes as an in-memory file (memfd), named by a /proc path the
/// readers can open and map like any model file.
class FuzzInput {
public:
  FuzzInput(const uint8_t *data, size_t size) {
    fd = memfd_create("qc-fuzz", 0);
    if (fd >= 0 && size > 0 && write(fd, data, size) != ssize_t(size)) {
      close(fd);
      fd = -1;
    }
  }
  ~FuzzInput() {
    if (fd >= 0)
      close(fd);
  }
  bool ok() const { return fd >= 0; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd); }

private:
  int fd = -1;
};

#endif // QC_TEST_FUZZ_FUZZINPUT_H
