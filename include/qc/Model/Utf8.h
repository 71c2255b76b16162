//===- Utf8.h - UTF-8 helpers shared by readers and tokenizers --*- C++ -*-===//
#ifndef QC_MODEL_UTF8_H
#define QC_MODEL_UTF8_H

#include <cstdint>
#include <string>

namespace qc {

/// Appends code point `cp` encoded as UTF-8.
inline void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

} // namespace qc

#endif // QC_MODEL_UTF8_H
