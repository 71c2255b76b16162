//===- Archive.h - The weights archive (safetensors) ------------*- C++ -*-===//
//
// qc keeps weights outside the IR in a safetensors file: an 8-byte header
// length, a JSON header (dtype, shape, data offsets per tensor, and
// __metadata__), then the data. The header is padded so the data starts
// 64-byte aligned, and tensors are laid out widest element first with no
// holes, so every tensor is aligned to its element size and the file maps
// straight into memory. Packed formats are U8 blobs whose metadata entry
// "format:<name>" gives the ggml type and logical shape.
//
//===----------------------------------------------------------------------===//
#ifndef QC_MODEL_ARCHIVE_H
#define QC_MODEL_ARCHIVE_H

#include "qc/Model/Model.h"

namespace qc::model {

/// Writes `m` (tensors, config, vocabulary) to `path` atomically: a
/// temporary file renamed into place once complete.
void writeArchive(const Model &m, const std::string &path);

/// Atomically replaces `path` with `bytes` (temporary name, then rename).
void writeFileAtomically(const std::string &path, const std::string &bytes);

} // namespace qc::model

#endif // QC_MODEL_ARCHIVE_H
