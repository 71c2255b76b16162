//===- ONNX.h - ONNX models: read, rewrite, write (no MLIR) -----*- C++ -*-===//
//
// A reader of the ONNX protobuf (ModelProto) written against the wire
// format, hostile-input checked like the other readers: every length and
// offset bounds-checked against the file, errors name the file, the byte
// offset and the node or tensor. It keeps each message's fields as byte
// ranges, so a rewrite re-emits what it does not change byte for byte.
//
//===----------------------------------------------------------------------===//
#ifndef QC_IMPORT_ONNX_H
#define QC_IMPORT_ONNX_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qc::onnx {

/// TensorProto.DataType values qc reads.
enum DataType : int32_t {
  Float = 1, Uint8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Float16 = 10,
  Double = 11, BFloat16 = 16,
};

/// One field of a message as it sits in the file.
struct Field {
  uint32_t number = 0;
  uint32_t wire = 0;       // 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
  uint64_t varint = 0;     // wire 0, 1 and 5: the value
  std::string_view bytes;  // wire 2: the payload
  std::string_view whole;  // the field with its tag, as written
};

struct Tensor {
  std::string name;
  std::vector<int64_t> dims;
  int32_t dataType = 0;
  /// The values as f32 (FLOAT, FLOAT16, BFLOAT16, DOUBLE), from raw_data,
  /// the typed fields or external data; throws naming the tensor.
  std::vector<float> floats() const;
  int64_t elements() const; // -1 on overflow or negative dims

  // Where the data is (one of them).
  std::string_view raw;           // raw_data, or the external bytes
  std::vector<Field> typed;       // float_data / int32_data / double_data
  std::string where;              // "FILE: tensor 'NAME'" for errors
};

struct Attribute {
  std::string name;
  int32_t type = 0; // AttributeProto.AttributeType
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::unique_ptr<Tensor> t;
};

struct Node {
  std::string name, opType, domain;
  std::vector<std::string> inputs, outputs;
  std::vector<Attribute> attributes;
  std::string_view whole; // the NodeProto field as written
  const Attribute *attribute(const std::string &name) const;
  /// "node 'NAME' (OpType)"
  std::string describe() const;
};

struct Model {
  std::string path;
  std::shared_ptr<const void> keepAlive; // the mapped file and external data
  std::vector<Field> fields;      // ModelProto's
  std::vector<Field> graphFields; // GraphProto's
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;
  std::vector<std::string> inputs, outputs; // the graph's, by name
  std::vector<std::pair<std::string, int64_t>> opsets; // domain, version
  /// The initializer, or the value of the Constant node, named `name`.
  const Tensor *constant(const std::string &name) const;
  /// readModel's index for constant(): an initializer's position, or
  /// -(i + 1) for nodes[i], a Constant (first of a name wins).
  std::unordered_map<std::string, int64_t> constants;
};

/// The [cols, rows] transpose of a row-major [rows, cols] matrix: ONNX's
/// MatMul holds a weight [in, out], qc and MatMulNBits [out, in].
std::vector<float> transposed(const std::vector<float> &m, int64_t rows,
                              int64_t cols);

/// Reads `path`; external data files resolve against its directory and may
/// not leave it. Throws model::FormatError.
Model readModel(const std::string &path);

/// Protobuf wire-format writing, for rewrites.
void putVarint(std::string &out, uint64_t v);
void putTag(std::string &out, uint32_t number, uint32_t wire);
void putBytes(std::string &out, uint32_t number, std::string_view bytes);
void putInt(std::string &out, uint32_t number, int64_t v);

/// An OperatorSetIdProto.
std::string opsetImport(const std::string &domain, int64_t version);
/// Writes a ModelProto's bytes to `path` (complete or not at all); refuses
/// past protobuf's 2 GB.
void writeModelFile(const std::string &path, const std::string &model);

/// A TensorProto with raw_data.
std::string tensorProto(const std::string &name, int32_t dataType,
                        const std::vector<int64_t> &dims, std::string_view raw);
/// A NodeProto; attributes are AttributeProto messages (intAttribute, ...).
std::string nodeProto(const std::string &name, const std::string &opType,
                      const std::string &domain,
                      const std::vector<std::string> &inputs,
                      const std::vector<std::string> &outputs,
                      const std::vector<std::string> &attributes);
std::string intAttribute(const std::string &name, int64_t v);
std::string intsAttribute(const std::string &name,
                          const std::vector<int64_t> &v);
std::string floatAttribute(const std::string &name, float v);
/// A ValueInfoProto of a tensor; a dimension < 0 is the symbolic `dimName`.
std::string valueInfo(const std::string &name, int32_t elemType,
                      const std::vector<int64_t> &dims,
                      const std::string &dimName);

} // namespace qc::onnx

#endif // QC_IMPORT_ONNX_H
