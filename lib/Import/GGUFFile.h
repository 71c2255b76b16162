//===- GGUFFile.h - Parsed GGUF header --------------------------*- C++ -*-===//
#ifndef QC_LIB_IMPORT_GGUFFILE_H
#define QC_LIB_IMPORT_GGUFFILE_H

#include "qc/Formats/GGML.h"
#include "qc/Model/Model.h"

#include <map>

namespace qc::model {

class MappedFile;

struct GGUFValue {
  uint32_t type = 0;
  int64_t integer = 0;
  double real = 0;
  std::string text;
  uint32_t elementType = 0;
  std::vector<GGUFValue> array;
};

struct GGUFTensorInfo {
  std::string name;
  std::vector<int64_t> shape; // row-major
  formats::GGMLType type;
  uint64_t offset; // absolute, in the file
  uint64_t size;   // bytes
};

struct GGUFFile {
  uint32_t version = 0;
  std::map<std::string, GGUFValue> values;
  std::vector<GGUFTensorInfo> tensors;
};

/// Parses and bounds-checks the header; throws FormatError on bad input.
GGUFFile parseGGUF(const MappedFile &file);
bool isValidUtf8(const std::string &s);

} // namespace qc::model

#endif // QC_LIB_IMPORT_GGUFFILE_H
