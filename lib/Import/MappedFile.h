//===- MappedFile.h - Read-only mapped input with checked reads -*- C++ -*-===//
#ifndef QC_LIB_IMPORT_MAPPEDFILE_H
#define QC_LIB_IMPORT_MAPPEDFILE_H

#include "qc/Model/Model.h"

#include <cstring>
#include <string>

namespace qc::model {

/// A whole file mapped read-only. Throws FormatError naming the file when it
/// cannot be opened.
class MappedFile {
public:
  explicit MappedFile(const std::string &path);
  ~MappedFile();
  MappedFile(const MappedFile &) = delete;
  MappedFile &operator=(const MappedFile &) = delete;

  const uint8_t *data() const { return bytes; }
  uint64_t size() const { return length; }
  const std::string &path() const { return name; }

private:
  std::string name;
  const uint8_t *bytes = nullptr;
  uint64_t length = 0;
};

/// Sequential little-endian reads of a byte range; every read is bounds
/// checked and a failure names the file, the offset and what was expected.
class Cursor {
public:
  Cursor(const MappedFile &file, uint64_t offset = 0)
      : file(file), pos(offset) {}

  uint64_t offset() const { return pos; }
  void seek(uint64_t offset) {
    if (offset > file.size())
      fail("seek past the end of the file", offset);
    pos = offset;
  }
  bool atEnd() const { return pos >= file.size(); }

  template <typename T> T read(const char *what) {
    T v;
    std::memcpy(&v, take(sizeof(T), what), sizeof(T));
    return v;
  }
  const uint8_t *take(uint64_t n, const char *what) {
    if (n > file.size() - pos)
      fail(std::string("truncated: ") + what + " needs " + std::to_string(n) +
               " bytes, " + std::to_string(file.size() - pos) + " left",
           pos);
    const uint8_t *p = file.data() + pos;
    pos += n;
    return p;
  }
  std::string string(uint64_t n, const char *what) {
    const uint8_t *p = take(n, what);
    return std::string(reinterpret_cast<const char *>(p), n);
  }

  [[noreturn]] void fail(const std::string &why, uint64_t at) const {
    throw FormatError(file.path() + ": offset " + std::to_string(at) + ": " +
                      why);
  }
  [[noreturn]] void fail(const std::string &why) const { fail(why, pos); }

private:
  const MappedFile &file;
  uint64_t pos;
};

/// a * b, throwing FormatError with `what` on overflow.
int64_t checkedMul(int64_t a, int64_t b, const std::string &what);

} // namespace qc::model

#endif // QC_LIB_IMPORT_MAPPEDFILE_H
