//===- GGUFWriter.h - Models to GGUF files llama.cpp runs -------*- C++ -*-===//
#ifndef QC_EXPORT_GGUFWRITER_H
#define QC_EXPORT_GGUFWRITER_H

#include "qc/Model/Model.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qc {

/// Assembles a GGUF v3 file: key/values, then tensors (32-byte aligned).
class GGUFBuilder {
public:
  void u32(const std::string &key, uint32_t v);
  void f32(const std::string &key, float v);
  void boolean(const std::string &key, bool v);
  void text(const std::string &key, const std::string &v);
  void strings(const std::string &key, const std::vector<std::string> &v);
  void floats(const std::string &key, const std::vector<float> &v);
  void ints(const std::string &key, const std::vector<int32_t> &v);
  /// A tensor of row-major `shape` stored as ggml type id `type`.
  void tensor(const std::string &name, const std::vector<int64_t> &shape,
              uint32_t type, const uint8_t *bytes, size_t size);
  /// Writes the file atomically (temporary name, then rename).
  void write(const std::string &path);

private:
  struct Bytes {
    template <typename T> void pod(T v);
    void str(const std::string &s);
    void pad();
    std::string out;
  };
  void key(const std::string &k, uint32_t type);
  Bytes kv, infos, data;
  uint64_t keys = 0, tensors = 0;
};

/// Writes `m` as GGUF v3 (llama or qwen2 architecture keys, the tokenizer,
/// every tensor in its stored ggml type, 32-byte aligned) to `path`
/// atomically. Throws FormatError when a tensor's type cannot go to GGUF.
void writeGGUF(const model::Model &m, const std::string &path);

} // namespace qc

#endif // QC_EXPORT_GGUFWRITER_H
