//===- GGUF.cpp - GGUF v2/v3 reader ---------------------------------------===//
//
// Header: "GGUF", u32 version, u64 tensor count, u64 key/value count; then
// key/values (string key, u32 type, value), tensor infos (name, u32 dims,
// u64 extents innermost first, u32 ggml type, u64 offset), and the tensor
// data at the next multiple of general.alignment (32 by default).
//
//===----------------------------------------------------------------------===//
#include "GGUFFile.h"
#include "MappedFile.h"

#include <algorithm>
#include <cmath>

namespace qc::model {

namespace {

enum ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};

uint64_t scalarSize(uint32_t type) {
  switch (type) {
  case U8: case I8: case BOOL: return 1;
  case U16: case I16: return 2;
  case U32: case I32: case F32: return 4;
  case U64: case I64: case F64: return 8;
  default: return 0;
  }
}

bool validUtf8(const std::string &s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2
                          : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + n >= s.size())
      return false;
    for (int k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2)
        return false;
    i += n + 1;
  }
  return true;
}

class Parser {
public:
  explicit Parser(const MappedFile &file) : file(file), in(file) {}

  GGUFFile parse() {
    GGUFFile g;
    if (file.size() < 4 || std::memcmp(file.data(), "GGUF", 4) != 0)
      in.fail("bad magic: expected \"GGUF\"", 0);
    in.take(4, "magic");
    g.version = in.read<uint32_t>("version");
    if (g.version != 2 && g.version != 3)
      in.fail("unsupported GGUF version " + std::to_string(g.version) +
                  " (expected 2 or 3)",
              4);
    uint64_t tensorCount = in.read<uint64_t>("tensor count");
    uint64_t kvCount = in.read<uint64_t>("key/value count");
    // Every entry takes at least 8 bytes: counts beyond that are lies.
    if (tensorCount > file.size() / 8 || kvCount > file.size() / 8)
      in.fail("tensor count " + std::to_string(tensorCount) +
                  " or key/value count " + std::to_string(kvCount) +
                  " exceeds what the file can hold",
              8);
    for (uint64_t i = 0; i < kvCount; ++i) {
      uint64_t at = in.offset();
      std::string key = str("key");
      if (g.values.count(key))
        in.fail("duplicate key '" + key + "'", at);
      g.values[key] = value(key, in.read<uint32_t>("value type"), 0);
    }
    uint64_t alignment = 32;
    if (auto it = g.values.find("general.alignment"); it != g.values.end()) {
      alignment = it->second.integer;
      if (alignment == 0 || (alignment & (alignment - 1)) || alignment > 65536)
        in.fail("general.alignment must be a power of two up to 65536, got " +
                std::to_string(alignment));
    }
    for (uint64_t i = 0; i < tensorCount; ++i)
      g.tensors.push_back(tensorInfo(g));
    uint64_t dataStart = (in.offset() + alignment - 1) / alignment * alignment;
    if (!g.tensors.empty() && dataStart > file.size())
      in.fail("tensor data would start past the end of the file", dataStart);
    // Bounds and overlaps, in file order.
    std::vector<GGUFTensorInfo *> order;
    for (GGUFTensorInfo &t : g.tensors) {
      t.offset += dataStart;
      if (t.offset < dataStart || t.size > file.size() ||
          t.offset > file.size() - t.size)
        in.fail("tensor '" + t.name + "' data (" + std::to_string(t.size) +
                    " bytes) lies past the end of the file",
                t.offset);
      order.push_back(&t);
    }
    std::sort(order.begin(), order.end(),
              [](auto *a, auto *b) { return a->offset < b->offset; });
    for (size_t i = 1; i < order.size(); ++i)
      if (order[i - 1]->offset + order[i - 1]->size > order[i]->offset)
        in.fail("tensors '" + order[i - 1]->name + "' and '" +
                    order[i]->name + "' overlap",
                order[i]->offset);
    return g;
  }

private:
  std::string str(const char *what) {
    uint64_t n = in.read<uint64_t>(what);
    if (n > file.size())
      in.fail(std::string(what) + " length " + std::to_string(n) +
              " exceeds the file size");
    return in.string(n, what);
  }

  GGUFValue value(const std::string &key, uint32_t type, int depth) {
    GGUFValue v;
    v.type = type;
    if (type == STRING) {
      v.text = str("string value");
      return v;
    }
    if (type == ARRAY) {
      if (depth > 0)
        in.fail("key '" + key + "': nested arrays are not supported");
      uint32_t elem = in.read<uint32_t>("array element type");
      uint64_t count = in.read<uint64_t>("array length");
      uint64_t minSize = elem == STRING ? 8 : scalarSize(elem);
      if (minSize == 0)
        in.fail("key '" + key + "': unknown array element type " +
                std::to_string(elem));
      if (count > (file.size() - in.offset()) / minSize)
        in.fail("key '" + key + "': array of " + std::to_string(count) +
                " elements exceeds the file");
      v.elementType = elem;
      v.array.reserve(count);
      for (uint64_t i = 0; i < count; ++i)
        v.array.push_back(value(key, elem, depth + 1));
      return v;
    }
    uint64_t size = scalarSize(type);
    if (size == 0)
      in.fail("key '" + key + "': unknown value type " + std::to_string(type));
    const uint8_t *p = in.take(size, "value");
    switch (type) {
    case U8: v.integer = p[0]; break;
    case BOOL: v.integer = p[0] != 0; break;
    case I8: v.integer = int8_t(p[0]); break;
    case U16: { uint16_t x; std::memcpy(&x, p, 2); v.integer = x; break; }
    case I16: { int16_t x; std::memcpy(&x, p, 2); v.integer = x; break; }
    case U32: { uint32_t x; std::memcpy(&x, p, 4); v.integer = x; break; }
    case I32: { int32_t x; std::memcpy(&x, p, 4); v.integer = x; break; }
    case U64: { uint64_t x; std::memcpy(&x, p, 8); v.integer = int64_t(x); break; }
    case I64: { int64_t x; std::memcpy(&x, p, 8); v.integer = x; break; }
    case F32: { float x; std::memcpy(&x, p, 4); v.real = x; break; }
    case F64: { double x; std::memcpy(&x, p, 8); v.real = x; break; }
    }
    if (type != F32 && type != F64)
      v.real = double(v.integer);
    else if (std::fabs(v.real) < 9.2e18) // else: not an integer anyone reads
      v.integer = int64_t(v.real);
    return v;
  }

  GGUFTensorInfo tensorInfo(const GGUFFile &g) {
    GGUFTensorInfo t;
    uint64_t at = in.offset();
    t.name = str("tensor name");
    for (const GGUFTensorInfo &other : g.tensors)
      if (other.name == t.name)
        in.fail("duplicate tensor '" + t.name + "'", at);
    uint32_t dims = in.read<uint32_t>("dimension count");
    if (dims == 0 || dims > 4)
      in.fail("tensor '" + t.name + "': dimension count must be 1..4, got " +
              std::to_string(dims));
    std::vector<int64_t> ne(dims);
    int64_t count = 1;
    for (uint32_t d = 0; d < dims; ++d) {
      uint64_t e = in.read<uint64_t>("extent");
      if (e == 0 || e > (uint64_t(1) << 40))
        in.fail("tensor '" + t.name + "': extent " + std::to_string(e) +
                " out of range");
      ne[d] = int64_t(e);
      count = checkedMul(count, ne[d], file.path() + ": tensor '" + t.name + "'");
    }
    uint32_t type = in.read<uint32_t>("tensor type");
    auto info = formats::ggmlTypeInfo(type);
    if (!info)
      in.fail("tensor '" + t.name + "': unknown ggml type " +
              std::to_string(type));
    t.type = info->type;
    if (ne[0] % info->blockSize != 0)
      in.fail("tensor '" + t.name + "': row of " + std::to_string(ne[0]) +
              " is not a multiple of " + info->name + "'s block of " +
              std::to_string(info->blockSize));
    t.size = uint64_t(checkedMul(count / info->blockSize, info->blockBytes,
                                 file.path() + ": tensor '" + t.name + "'"));
    t.offset = in.read<uint64_t>("tensor offset");
    t.shape.assign(ne.rbegin(), ne.rend()); // row-major: outermost first
    return t;
  }

  const MappedFile &file;
  Cursor in;
};

} // namespace

GGUFFile parseGGUF(const MappedFile &file) { return Parser(file).parse(); }

bool isValidUtf8(const std::string &s) { return validUtf8(s); }

} // namespace qc::model
