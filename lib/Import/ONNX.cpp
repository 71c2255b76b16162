//===- ONNX.cpp - ONNX protobuf reader and writer helpers -----------------===//
#include "qc/Import/ONNX.h"
#include "MappedFile.h"
#include "qc/Formats/Half.h"
#include "qc/Model/Archive.h"
#include "qc/Support/Memory.h"

#include <cstring>
#include <limits>

namespace qc::onnx {

using model::FormatError;

namespace {

/// Field numbers of the messages read (onnx.proto3).
namespace field {
enum : uint32_t {
  ModelGraph = 7, ModelOpset = 8,
  OpsetDomain = 1, OpsetVersion = 2,
  GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12,
  ValueInfoName = 1,
  NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4,
  NodeAttribute = 5, NodeDomain = 7,
  AttrName = 1, AttrF = 2, AttrI = 3, AttrS = 4, AttrT = 5, AttrInts = 8,
  AttrType = 20,
  TensorDims = 1, TensorDataType = 2, TensorFloatData = 4,
  TensorInt32Data = 5, TensorName = 8, TensorRawData = 9,
  TensorDoubleData = 10, TensorExternalData = 13, TensorDataLocation = 14,
  EntryKey = 1, EntryValue = 2,
};
} // namespace field

/// Reads a varint off the front of `in`; false when it is truncated or
/// longer than 10 bytes.
bool takeVarint(std::string_view &in, uint64_t &v) {
  v = 0;
  for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
    uint8_t b = uint8_t(in[0]);
    in.remove_prefix(1);
    v |= uint64_t(b & 0x7f) << shift;
    if (!(b & 0x80))
      return true;
  }
  return false;
}

/// Parses messages of one file, naming the file and the byte offset.
struct Reader {
  std::string path;
  const char *base; // the file's first byte: offsets in errors
  /// External data files mapped so far (their views outlive parsing).
  mutable std::vector<std::shared_ptr<model::MappedFile>> external;

  [[noreturn]] void fail(std::string_view at, const std::string &why) const {
    throw FormatError(path + ": at byte " +
                      std::to_string(at.data() - base) + ": " + why);
  }

  uint64_t varint(std::string_view &in, std::string_view whole,
                  const char *what) const {
    uint64_t v = 0;
    if (!takeVarint(in, v))
      fail(whole, std::string("truncated varint or one longer than 10 "
                              "bytes (") + what + ")");
    return v;
  }

  std::vector<Field> message(std::string_view in, const char *what) const {
    std::vector<Field> fields;
    while (!in.empty()) {
      Field f;
      std::string_view start = in;
      uint64_t tag = varint(in, start, what);
      f.number = uint32_t(tag >> 3);
      f.wire = uint32_t(tag & 7);
      if (f.number == 0 || (tag >> 3) > (uint64_t(1) << 29))
        fail(start, std::string("field number 0 or too large in ") + what);
      switch (f.wire) {
      case 0:
        f.varint = varint(in, start, what);
        break;
      case 1:
      case 5: {
        size_t n = f.wire == 1 ? 8 : 4;
        if (in.size() < n)
          fail(start, std::string("truncated fixed-width field in ") + what);
        std::memcpy(&f.varint, in.data(), n);
        in.remove_prefix(n);
        break;
      }
      case 2: {
        uint64_t n = varint(in, start, what);
        if (n > in.size())
          fail(start, "field " + std::to_string(f.number) + " of " + what +
                          " claims " + std::to_string(n) + " bytes, " +
                          std::to_string(in.size()) + " remain");
        f.bytes = in.substr(0, size_t(n));
        in.remove_prefix(size_t(n));
        break;
      }
      default:
        fail(start, "wire type " + std::to_string(f.wire) + " in " + what +
                        " (groups are not ONNX)");
      }
      f.whole = start.substr(0, size_t(in.data() - start.data()));
      // A field costs 48 bytes here and may take 2 in the file: check the
      // growth against what this process can hold, every 2^20 fields.
      if (fields.size() % (size_t(1) << 20) == (size_t(1) << 20) - 1)
        requireMemory(2.0 * double(fields.size() + 1) * sizeof(Field),
                      path + ": " + what + " of more than " +
                          std::to_string(fields.size()) + " fields",
                      "a real model has far fewer fields; is this an ONNX "
                      "file?");
      fields.push_back(f);
    }
    return fields;
  }

  std::string text(const Field &f, const char *what) const {
    if (f.wire != 2)
      fail(f.whole, std::string(what) + " is not a string");
    return std::string(f.bytes);
  }

  /// Repeated int64: packed or one per field.
  void int64s(const Field &f, std::vector<int64_t> &out) const {
    if (f.wire == 0) {
      out.push_back(int64_t(f.varint));
      return;
    }
    if (f.wire != 2)
      fail(f.whole, "a repeated int64 field of another wire type");
    std::string_view in = f.bytes;
    while (!in.empty())
      out.push_back(int64_t(varint(in, f.whole, "packed int64")));
  }

  Tensor tensor(std::string_view bytes, const std::string &owner) const {
    Tensor t;
    std::string location;
    uint64_t offset = 0;
    int64_t length = -1;
    bool external = false;
    for (const Field &f : message(bytes, "TensorProto")) {
      switch (f.number) {
      case field::TensorDims:
        int64s(f, t.dims);
        break;
      case field::TensorDataType:
        t.dataType = int32_t(f.varint);
        break;
      case field::TensorName:
        t.name = text(f, "tensor name");
        break;
      case field::TensorRawData:
        t.raw = f.bytes;
        break;
      case field::TensorFloatData:
      case field::TensorInt32Data:
      case field::TensorDoubleData:
        t.typed.push_back(f);
        break;
      case field::TensorDataLocation:
        external = f.varint == 1;
        break;
      case field::TensorExternalData: {
        std::string key, value;
        for (const Field &e : message(f.bytes, "external_data entry")) {
          if (e.number == field::EntryKey)
            key = text(e, "external_data key");
          if (e.number == field::EntryValue)
            value = text(e, "external_data value");
        }
        char *end = nullptr;
        if (key == "location")
          location = value;
        else if (key == "offset")
          offset = std::strtoull(value.c_str(), &end, 10);
        else if (key == "length")
          length = int64_t(std::strtoull(value.c_str(), &end, 10));
        if (end && *end)
          fail(f.whole, "external_data " + key + " '" + value +
                            "' is not a number");
        break;
      }
      default:
        break;
      }
    }
    t.where = path + ": tensor '" + (t.name.empty() ? owner : t.name) + "'";
    if (external)
      t.raw = externalBytes(t, location, offset, length);
    return t;
  }

  std::string_view externalBytes(const Tensor &t, const std::string &location,
                                 uint64_t offset, int64_t length) const {
    if (location.empty() || location[0] == '/' ||
        location.find("..") != std::string::npos)
      throw FormatError(t.where + ": external data location '" + location +
                        "' must be a file name beside the model");
    size_t slash = path.rfind('/');
    std::string file =
        (slash == std::string::npos ? "" : path.substr(0, slash + 1)) +
        location;
    auto mapped = std::make_shared<model::MappedFile>(file);
    uint64_t size = mapped->size();
    uint64_t n = length < 0 ? (offset <= size ? size - offset : 0)
                            : uint64_t(length);
    if (offset > size || n > size - offset)
      throw FormatError(t.where + ": external data " + location + " [" +
                        std::to_string(offset) + ", +" + std::to_string(n) +
                        ") lies outside its " + std::to_string(size) +
                        " bytes");
    external.push_back(mapped);
    return std::string_view(reinterpret_cast<const char *>(mapped->data()) +
                                offset,
                            size_t(n));
  }

  Attribute attribute(std::string_view bytes, const std::string &node) const {
    Attribute a;
    for (const Field &f : message(bytes, "AttributeProto")) {
      switch (f.number) {
      case field::AttrName:
        a.name = text(f, "attribute name");
        break;
      case field::AttrType:
        a.type = int32_t(f.varint);
        break;
      case field::AttrF: {
        uint32_t bits = uint32_t(f.varint);
        std::memcpy(&a.f, &bits, 4);
        break;
      }
      case field::AttrI:
        a.i = int64_t(f.varint);
        break;
      case field::AttrS:
        a.s = text(f, "attribute string");
        break;
      case field::AttrT:
        if (f.wire != 2)
          fail(f.whole, "attribute tensor is not a message");
        a.t = std::make_unique<Tensor>(tensor(f.bytes, node));
        break;
      case field::AttrInts:
        int64s(f, a.ints);
        break;
      default:
        break;
      }
    }
    return a;
  }

  Node node(const Field &whole) const {
    Node n;
    n.whole = whole.whole;
    std::vector<Field> fields = message(whole.bytes, "NodeProto");
    for (const Field &f : fields) {
      if (f.number == field::NodeName)
        n.name = text(f, "node name");
      else if (f.number == field::NodeOpType)
        n.opType = text(f, "op_type");
      else if (f.number == field::NodeDomain)
        n.domain = text(f, "node domain");
      else if (f.number == field::NodeInput)
        n.inputs.push_back(text(f, "node input"));
      else if (f.number == field::NodeOutput)
        n.outputs.push_back(text(f, "node output"));
    }
    for (const Field &f : fields)
      if (f.number == field::NodeAttribute) {
        if (f.wire != 2)
          fail(f.whole, n.describe() + ": attribute is not a message");
        n.attributes.push_back(attribute(f.bytes, n.name));
      }
    return n;
  }
};

float toFloat(int32_t type, const uint8_t *p) {
  switch (type) {
  case Float: {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  case Float16: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return formats::halfToFloat(h);
  }
  case BFloat16: {
    uint32_t bits = uint32_t(p[0] | (p[1] << 8)) << 16;
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  default: {
    double d;
    std::memcpy(&d, p, 8);
    return float(d);
  }
  }
}

} // namespace

int64_t Tensor::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<int64_t>::max() / d))
      return -1;
    n *= d;
  }
  return n;
}

std::vector<float> Tensor::floats() const {
  int width = dataType == Float      ? 4
              : dataType == Float16  ? 2
              : dataType == BFloat16 ? 2
              : dataType == Double   ? 8
                                     : 0;
  if (!width)
    throw FormatError(where + ": data type " + std::to_string(dataType) +
                      " is not a floating-point type (1, 10, 11 or 16)");
  int64_t n = elements();
  if (n < 0)
    throw FormatError(where + ": bad dimensions");
  std::vector<float> out;
  if (!raw.empty() || typed.empty()) {
    if (uint64_t(raw.size()) != uint64_t(n) * uint64_t(width))
      throw FormatError(where + ": " + std::to_string(raw.size()) +
                        " bytes of data for " + std::to_string(n) +
                        " values of " + std::to_string(width) + " bytes");
    out.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i)
      out[size_t(i)] = toFloat(dataType, reinterpret_cast<const uint8_t *>(
                                             raw.data()) + i * width);
    return out;
  }
  // Typed fields: float_data (fixed32), double_data (fixed64), int32_data
  // (varints holding the 16 bits of FLOAT16 / BFLOAT16).
  for (const Field &f : typed) {
    bool halves = dataType == Float16 || dataType == BFloat16;
    if (halves != (f.number == field::TensorInt32Data))
      throw FormatError(where + ": typed data field " +
                        std::to_string(f.number) + " does not match type " +
                        std::to_string(dataType));
    auto push16 = [&](uint64_t v) {
      uint8_t b[2] = {uint8_t(v), uint8_t(v >> 8)};
      out.push_back(toFloat(dataType, b));
    };
    if (f.wire == 2 && halves) {
      std::string_view in = f.bytes;
      while (!in.empty()) {
        uint64_t v;
        if (!takeVarint(in, v))
          throw FormatError(where + ": bad packed int32_data");
        push16(v);
      }
    } else if (f.wire == 2) {
      size_t w = dataType == Double ? 8 : 4;
      if (f.bytes.size() % w)
        throw FormatError(where + ": packed data of " +
                          std::to_string(f.bytes.size()) +
                          " bytes is no whole number of values");
      for (size_t i = 0; i < f.bytes.size(); i += w)
        out.push_back(toFloat(dataType, reinterpret_cast<const uint8_t *>(
                                            f.bytes.data() + i)));
    } else if (halves) {
      push16(f.varint);
    } else {
      uint8_t b[8];
      std::memcpy(b, &f.varint, 8);
      out.push_back(toFloat(dataType, b));
    }
    if (int64_t(out.size()) > n)
      break;
  }
  if (int64_t(out.size()) != n)
    throw FormatError(where + ": " + std::to_string(out.size()) +
                      " values for dimensions holding " + std::to_string(n));
  return out;
}

const Attribute *Node::attribute(const std::string &name) const {
  for (const Attribute &a : attributes)
    if (a.name == name)
      return &a;
  return nullptr;
}

std::string Node::describe() const {
  return "node '" + name + "' (" + opType + ")";
}

const Tensor *Model::constant(const std::string &name) const {
  auto it = constants.find(name);
  if (it == constants.end())
    return nullptr;
  if (it->second >= 0)
    return &initializers[size_t(it->second)];
  return nodes[size_t(-it->second - 1)].attribute("value")->t.get();
}

std::vector<float> transposed(const std::vector<float> &m, int64_t rows,
                              int64_t cols) {
  std::vector<float> t(m.size());
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t[size_t(c * rows + r)] = m[size_t(r * cols + c)];
  return t;
}

Model readModel(const std::string &path) {
  auto file = std::make_shared<model::MappedFile>(path);
  Reader r{path, reinterpret_cast<const char *>(file->data()), {}};
  std::string_view all(r.base, size_t(file->size()));
  Model m;
  m.path = path;
  m.fields = r.message(all, "ModelProto");
  const Field *graph = nullptr;
  for (const Field &f : m.fields) {
    if (f.number == field::ModelGraph) {
      if (f.wire != 2)
        r.fail(f.whole, "graph is not a message");
      graph = &f;
    } else if (f.number == field::ModelOpset) {
      std::string domain;
      int64_t version = 0;
      for (const Field &o : r.message(f.bytes, "OperatorSetIdProto")) {
        if (o.number == field::OpsetDomain)
          domain = r.text(o, "opset domain");
        if (o.number == field::OpsetVersion)
          version = int64_t(o.varint);
      }
      m.opsets.emplace_back(domain, version);
    }
  }
  if (!graph)
    throw FormatError(path + ": no graph (field 7): not an ONNX model");
  m.graphFields = r.message(graph->bytes, "GraphProto");
  for (const Field &f : m.graphFields) {
    if (f.number == field::GraphNode) {
      if (f.wire != 2)
        r.fail(f.whole, "node is not a message");
      m.nodes.push_back(r.node(f));
    } else if (f.number == field::GraphInitializer) {
      if (f.wire != 2)
        r.fail(f.whole, "initializer is not a message");
      m.initializers.push_back(r.tensor(f.bytes, "initializer"));
    } else if (f.number == field::GraphInput || f.number == field::GraphOutput) {
      if (f.wire != 2)
        r.fail(f.whole, "graph input or output is not a message");
      std::string name;
      for (const Field &v : r.message(f.bytes, "ValueInfoProto"))
        if (v.number == field::ValueInfoName)
          name = r.text(v, "value name");
      (f.number == field::GraphInput ? m.inputs : m.outputs).push_back(name);
    }
  }
  if (m.nodes.empty())
    throw FormatError(path + ": the graph has no nodes");
  // Graph walks ask for constants by name many times: an index, not a scan.
  for (size_t i = 0; i < m.initializers.size(); ++i)
    m.constants.emplace(m.initializers[i].name, int64_t(i));
  for (size_t i = 0; i < m.nodes.size(); ++i) {
    const Node &n = m.nodes[i];
    if (n.opType == "Constant" && n.domain.empty() && n.outputs.size() == 1)
      if (const Attribute *a = n.attribute("value"); a && a->t)
        m.constants.emplace(n.outputs[0], -int64_t(i) - 1);
  }
  auto keep = std::make_shared<std::vector<std::shared_ptr<const void>>>();
  keep->push_back(file);
  for (auto &e : r.external)
    keep->push_back(e);
  m.keepAlive = keep;
  return m;
}

void putVarint(std::string &out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(uint8_t(v) | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

void putTag(std::string &out, uint32_t number, uint32_t wire) {
  putVarint(out, (uint64_t(number) << 3) | wire);
}

void putBytes(std::string &out, uint32_t number, std::string_view bytes) {
  putTag(out, number, 2);
  putVarint(out, bytes.size());
  out.append(bytes);
}

void putInt(std::string &out, uint32_t number, int64_t v) {
  putTag(out, number, 0);
  putVarint(out, uint64_t(v));
}

std::string opsetImport(const std::string &domain, int64_t version) {
  std::string opset;
  putBytes(opset, field::OpsetDomain, domain);
  putInt(opset, field::OpsetVersion, version);
  return opset;
}

void writeModelFile(const std::string &path, const std::string &model) {
  if (model.size() > 0x7fffffffu)
    throw FormatError(path + ": the ONNX model would be " +
                      std::to_string(model.size()) +
                      " bytes, past protobuf's 2 GB (external data is not "
                      "written yet)");
  model::writeFileAtomically(path, model);
}

std::string tensorProto(const std::string &name, int32_t dataType,
                        const std::vector<int64_t> &dims, std::string_view raw) {
  std::string t;
  for (int64_t d : dims)
    putInt(t, field::TensorDims, d);
  putInt(t, field::TensorDataType, dataType);
  putBytes(t, field::TensorName, name);
  putBytes(t, field::TensorRawData, raw);
  return t;
}

std::string intAttribute(const std::string &name, int64_t v) {
  std::string a;
  putBytes(a, field::AttrName, name);
  putInt(a, field::AttrI, v);
  putInt(a, field::AttrType, 2); // INT
  return a;
}

std::string intsAttribute(const std::string &name,
                          const std::vector<int64_t> &v) {
  std::string a;
  putBytes(a, field::AttrName, name);
  for (int64_t x : v)
    putInt(a, field::AttrInts, x);
  putInt(a, field::AttrType, 7); // INTS
  return a;
}

std::string floatAttribute(const std::string &name, float v) {
  std::string a;
  putBytes(a, field::AttrName, name);
  putTag(a, field::AttrF, 5);
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  for (int i = 0; i < 4; ++i)
    a.push_back(char(bits >> (8 * i)));
  putInt(a, field::AttrType, 1); // FLOAT
  return a;
}

std::string valueInfo(const std::string &name, int32_t elemType,
                      const std::vector<int64_t> &dims,
                      const std::string &dimName) {
  std::string shape;
  for (int64_t d : dims) {
    std::string dim;
    if (d < 0)
      putBytes(dim, 2, dimName); // dim_param
    else
      putInt(dim, 1, d); // dim_value
    putBytes(shape, 1, dim);
  }
  std::string tensorType;
  putInt(tensorType, 1, elemType);
  putBytes(tensorType, 2, shape);
  std::string type;
  putBytes(type, 1, tensorType); // TypeProto.tensor_type
  std::string v;
  putBytes(v, 1, name);
  putBytes(v, 2, type);
  return v;
}

std::string nodeProto(const std::string &name, const std::string &opType,
                      const std::string &domain,
                      const std::vector<std::string> &inputs,
                      const std::vector<std::string> &outputs,
                      const std::vector<std::string> &attributes) {
  std::string n;
  for (const std::string &i : inputs)
    putBytes(n, field::NodeInput, i);
  for (const std::string &o : outputs)
    putBytes(n, field::NodeOutput, o);
  putBytes(n, field::NodeName, name);
  putBytes(n, field::NodeOpType, opType);
  for (const std::string &a : attributes)
    putBytes(n, field::NodeAttribute, a);
  if (!domain.empty())
    putBytes(n, field::NodeDomain, domain);
  return n;
}

} // namespace qc::onnx
