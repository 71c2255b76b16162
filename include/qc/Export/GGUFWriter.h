//===- GGUFWriter.h - Models to GGUF files llama.cpp runs -------*- C++ -*-===//
#ifndef QC_EXPORT_GGUFWRITER_H
#define QC_EXPORT_GGUFWRITER_H

#include "qc/Model/Model.h"

namespace qc {

/// Writes `m` as GGUF v3 (llama or qwen2 architecture keys, the tokenizer,
/// every tensor in its stored ggml type, 32-byte aligned) to `path`
/// atomically. Throws FormatError when a tensor's type cannot go to GGUF.
void writeGGUF(const model::Model &m, const std::string &path);

} // namespace qc

#endif // QC_EXPORT_GGUFWRITER_H
