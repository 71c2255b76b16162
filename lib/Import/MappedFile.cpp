//===- MappedFile.cpp -----------------------------------------------------===//
#include "MappedFile.h"

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace qc::model {

MappedFile::MappedFile(const std::string &path) : name(path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    throw FormatError(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FormatError(path + ": not a regular file");
  }
  length = uint64_t(st.st_size);
  if (length > 0) {
    void *p = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      ::close(fd);
      throw FormatError(path + ": cannot map: " + std::strerror(errno));
    }
    bytes = static_cast<const uint8_t *>(p);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (bytes)
    ::munmap(const_cast<uint8_t *>(bytes), length);
}

int64_t checkedMul(int64_t a, int64_t b, const std::string &what) {
  int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r))
    throw FormatError(what + ": size overflows (" + std::to_string(a) + " x " +
                      std::to_string(b) + ")");
  return r;
}

} // namespace qc::model
