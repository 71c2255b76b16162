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

/// One tensor an archive will hold, known before its bytes exist.
struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape; // logical shape
  std::string format;         // codec name; packed formats are U8 blobs
  uint64_t bytes = 0;
};

/// Writes an archive tensor by tensor, so no step holds more than the
/// tensor it is producing: the header (every tensor's offset, from the
/// specs) goes first, then each tensor's bytes at its offset, in any order,
/// into a temporary file. commit() checks that every tensor was written and
/// renames the file into place; a writer destroyed without commit() removes
/// it, so a failure never leaves a half-written archive.
class ArchiveWriter {
public:
  /// `resumable`: the temporary file is `path` + ".partial", and one left by
  /// an interrupted run with the same header is reopened as it is, its
  /// tensors to be named by keep() (what is in them, its caller's state
  /// file knows).
  ArchiveWriter(const std::string &path, const Config &config,
                const Vocabulary &vocab, std::vector<TensorSpec> specs,
                bool resumable = false);
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter &) = delete;
  ArchiveWriter &operator=(const ArchiveWriter &) = delete;

  /// Writes the bytes of tensor `name`; throws FormatError on an unknown
  /// name, a size other than its spec's, a second write, or a failed write
  /// (a full disk: the error names the file, offset and errno's text).
  void write(const std::string &name, const uint8_t *data, uint64_t size);
  /// A resumed archive: `name` holds what the interrupted run wrote.
  void keep(const std::string &name);
  void commit();
  /// Closes the temporary file and leaves it for a later run to resume.
  void leaveForResume();
  const std::string &temporaryPath() const { return tmp; }

private:
  struct Slot {
    uint64_t offset, size;
    bool written = false;
  };
  std::string path, tmp;
  int fd = -1;
  std::map<std::string, Slot> slots;
};

/// The spec of an existing tensor (its format, shape and byte size).
TensorSpec specOf(const Tensor &t);

/// Writes `m` (tensors, config, vocabulary) to `path` through an
/// ArchiveWriter, one tensor at a time; tensors that view a mapped file
/// have their pages released once written.
void writeArchive(const Model &m, const std::string &path);

/// Drops the resident pages of a tensor that views a mapped file (they are
/// read again if touched), so a step that walks a model tensor by tensor
/// stays at one tensor of resident memory. No-op for other tensors.
void releasePages(const Tensor &t);
/// The same for bytes [offset, offset + size) of the tensor only.
void releasePages(const Tensor &t, uint64_t offset, uint64_t size);

/// Atomically replaces `path` with `bytes` (temporary name, then rename).
void writeFileAtomically(const std::string &path, const std::string &bytes);

} // namespace qc::model

#endif // QC_MODEL_ARCHIVE_H
