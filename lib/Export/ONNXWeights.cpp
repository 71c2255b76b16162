//===- ONNXWeights.cpp - MatMul/Gemm weights to MatMulNBits ---------------===//
#include "qc/Export/ONNXWeights.h"
#include "qc/Formats/Registry.h"
#include "qc/Import/ONNX.h"
#include "qc/Model/Model.h"

#include <cmath>
#include <cstring>
#include <map>
#include <set>

namespace qc {

using model::FormatError;

std::string matMulNBitsForm(const std::string &format, int &bits,
                            int64_t &block) {
  std::string why;
  std::unique_ptr<formats::Codec> codec = formats::makeCodec(format, why);
  if (!codec)
    return why;
  formats::Layout L = codec->layout();
  bits = L.codes.bits();
  block = L.blockWeights;
  auto no = [&](const std::string &what) {
    return format + " has no MatMulNBits form: " + what;
  };
  if (L.kind != formats::Layout::Blocks || codec->headerBytes() != 0)
    return no("it is not scaled blocks of integer codes");
  if (!L.values.empty())
    return no("its codes index a value table");
  if (L.subBlock != 0 || L.minOffset >= 0)
    return no("MatMulNBits has one scale per block and no minimum");
  if (bits != 4 && bits != 8)
    return no("codes of " + std::to_string(bits) + " bits (4 or 8 run in "
              "ONNX Runtime)");
  if (block < 16 || block > 256 || (block & (block - 1)))
    return no("blocks of " + std::to_string(block) +
              " (a power of two in 16..256)");
  if (L.scaleType == formats::Scalar::E8M0)
    return no("power-of-two scales");
  return {};
}

std::string packMatMulNBits(const formats::Codec &codec, const uint8_t *packed,
                            int64_t rows, int64_t cols, int bits,
                            std::string &packedB, std::string &scales) {
  formats::Layout L = codec.layout();
  int64_t block = L.blockWeights, blocks = cols / block;
  int64_t blob = block * bits / 8, offset = int64_t(1) << (bits - 1);
  packedB.assign(size_t(rows * blocks * blob), '\0');
  scales.assign(size_t(rows * blocks * 4), '\0');
  for (int64_t b = 0; b < rows * blocks; ++b) {
    const uint8_t *src = packed + b * L.blockBytes;
    float d = formats::readScalar(L.scaleType, src + L.scaleOffset);
    std::memcpy(&scales[size_t(b * 4)], &d, 4);
    uint8_t *dst = reinterpret_cast<uint8_t *>(&packedB[size_t(b * blob)]);
    for (int64_t e = 0; e < block; ++e) {
      int64_t u = L.codes.read(src, e) - L.zero + offset;
      if (u < 0 || u >= (int64_t(1) << bits))
        return "code " + std::to_string(u) + " outside MatMulNBits' " +
               std::to_string(bits) + " bits";
      if (bits == 8)
        dst[e] = uint8_t(u);
      else
        dst[e / 2] |= uint8_t(u << (4 * (e % 2)));
    }
  }
  return {};
}

namespace {

struct Weight {
  const onnx::Node *node;
  std::string input;        // the weight's name
  std::vector<float> rowsNK; // W^T: N rows of K
  int64_t k, n;
  const std::string *bias = nullptr; // Gemm's C
};

/// The constant B of a MatMul or Gemm as N rows of K, or why not.
std::string weightOf(const onnx::Model &m, const onnx::Node &node, Weight &w) {
  if (node.inputs.size() < 2 || node.outputs.size() != 1)
    return "not two inputs and one output";
  const onnx::Tensor *b = m.constant(node.inputs[1]);
  if (!b)
    return "its weight '" + node.inputs[1] + "' is not a constant";
  if (b->dims.size() != 2 || b->dims[0] < 1 || b->dims[1] < 1)
    return "its weight is not a matrix (two dimensions, neither 0)";
  if (b->dataType != onnx::Float)
    return "its weight is not float32";
  bool transB = false;
  if (node.opType == "Gemm") {
    auto attr = [&](const char *name, float dflt) {
      const onnx::Attribute *a = node.attribute(name);
      return a ? (a->type == 1 ? a->f : float(a->i)) : dflt;
    };
    if (attr("transA", 0) != 0 || attr("alpha", 1) != 1)
      return "Gemm with transA or alpha";
    if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
      if (attr("beta", 1) != 1)
        return "Gemm with beta";
      w.bias = &node.inputs[2];
    }
    transB = attr("transB", 0) != 0;
  }
  std::vector<float> v = b->floats();
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      throw FormatError(b->where + ": value " + std::to_string(i) +
                        " is not finite (" + std::to_string(v[i]) + ")");
  int64_t d0 = b->dims[0], d1 = b->dims[1];
  w.k = transB ? d1 : d0;
  w.n = transB ? d0 : d1;
  w.node = &node;
  w.input = node.inputs[1];
  w.rowsNK = transB ? std::move(v) : onnx::transposed(v, w.k, w.n);
  return {};
}

/// `w` in `codec`'s format (rows padded to whole blocks) as MatMulNBits'
/// B and scales; the relative error.
double pack(const Weight &w, const formats::Codec &codec, int bits,
            int64_t block, std::string &packedB, std::string &scales) {
  int64_t blocks = (w.k + block - 1) / block, cols = blocks * block;
  std::vector<float> padded(size_t(w.n * cols), 0.0f);
  for (int64_t r = 0; r < w.n; ++r)
    std::memcpy(&padded[size_t(r * cols)], &w.rowsNK[size_t(r * w.k)],
                size_t(w.k) * 4);
  std::vector<uint8_t> q(size_t(codec.packedBytes(w.n, cols)));
  std::string why = codec.quantize(padded.data(), w.n, cols, nullptr, q.data());
  if (!why.empty())
    throw FormatError(w.node->describe() + ": " + why);
  why = packMatMulNBits(codec, q.data(), w.n, cols, bits, packedB, scales);
  if (!why.empty())
    throw FormatError(w.node->describe() + ": " + why);
  std::vector<float> back(padded.size());
  codec.dequantize(q.data(), w.n, cols, back.data());
  double err = 0, norm = 0;
  for (int64_t r = 0; r < w.n; ++r)
    for (int64_t kk = 0; kk < w.k; ++kk) {
      double x = w.rowsNK[size_t(r * w.k + kk)], y = back[size_t(r * cols + kk)];
      err += (x - y) * (x - y);
      norm += x * x;
    }
  return norm > 0 ? err / norm : 0.0;
}

} // namespace

OnnxWeightReport quantizeOnnxWeights(const std::string &input,
                                     const std::string &output,
                                     const OnnxWeightOptions &o) {
  int bits = 0;
  int64_t block = 0;
  if (std::string why = matMulNBitsForm(o.format, bits, block); !why.empty())
    throw FormatError(why);
  std::string why;
  std::unique_ptr<formats::Codec> codec = formats::makeCodec(o.format, why);
  onnx::Model m = onnx::readModel(input);
  OnnxWeightReport report;
  std::map<const onnx::Node *, std::string> replacement; // new node bytes
  std::string newInitializers;
  std::set<std::string> used; // names still read by a node kept as it is
  std::set<std::string> replacedWeights;
  for (const onnx::Node &node : m.nodes) {
    bool candidate = node.domain.empty() &&
                     (node.opType == "MatMul" || node.opType == "Gemm");
    Weight w;
    std::string skip = candidate ? weightOf(m, node, w) : "not a product";
    if (skip.empty() && w.k * w.n < o.minElements)
      skip = "fewer than " + std::to_string(o.minElements) + " weights";
    if (!skip.empty()) {
      if (candidate)
        report.kept.push_back(node.describe() + ": " + skip);
      for (const std::string &i : node.inputs)
        used.insert(i);
      continue;
    }
    std::string packedB, scales;
    double error = pack(w, *codec, bits, block, packedB, scales);
    int64_t blocks = (w.k + block - 1) / block;
    std::string base = w.input + "_qc" + std::to_string(bits) + "b";
    newInitializers += [&] {
      std::string f;
      onnx::putBytes(f, 5, onnx::tensorProto(base, onnx::Uint8,
                                             {w.n, blocks, block * bits / 8},
                                             packedB));
      onnx::putBytes(f, 5, onnx::tensorProto(base + "_scales", onnx::Float,
                                             {w.n * blocks}, scales));
      return f;
    }();
    const std::string &out = node.outputs[0];
    std::string product = w.bias ? out + "_qc_nobias" : out;
    std::string nodes;
    onnx::putBytes(
        nodes, 1,
        onnx::nodeProto(node.name + "_qc", "MatMulNBits", "com.microsoft",
                        {node.inputs[0], base, base + "_scales"}, {product},
                        {onnx::intAttribute("K", w.k),
                         onnx::intAttribute("N", w.n),
                         onnx::intAttribute("bits", bits),
                         onnx::intAttribute("block_size", block)}));
    if (w.bias) {
      onnx::putBytes(nodes, 1,
                     onnx::nodeProto(node.name + "_qc_bias", "Add", "",
                                     {product, *w.bias}, {out}, {}));
      used.insert(*w.bias);
    }
    used.insert(node.inputs[0]);
    replacement[&node] = nodes;
    replacedWeights.insert(w.input);
    report.quantized.push_back({node.name, w.input, w.k, w.n, error});
  }
  if (report.quantized.empty())
    throw FormatError(input + ": no MatMul or Gemm with a constant float "
                      "weight to quantize");
  // The graph: kept fields as written, replaced nodes in place, weights no
  // node reads any more dropped, the packed ones appended.
  // A subgraph (If, Loop, Scan) may read outer initializers by name: with
  // one, every weight stays.
  bool subgraphs = false;
  for (const onnx::Node &node : m.nodes)
    for (const onnx::Attribute &a : node.attributes)
      subgraphs |= a.type == 5 || a.type == 10; // GRAPH, GRAPHS
  auto dropped = [&](const std::string &name) {
    return !subgraphs && replacedWeights.count(name) && !used.count(name);
  };
  std::string graph;
  size_t nodeIndex = 0, initIndex = 0;
  for (const onnx::Field &f : m.graphFields) {
    if (f.number == 1) {
      const onnx::Node &node = m.nodes[nodeIndex++];
      if (auto r = replacement.find(&node); r != replacement.end())
        graph += r->second;
      else if (!(node.opType == "Constant" && node.outputs.size() == 1 &&
                 dropped(node.outputs[0])))
        graph.append(f.whole);
      continue;
    }
    if (f.number == 5 && dropped(m.initializers[initIndex++].name))
      continue;
    graph.append(f.whole);
  }
  graph += newInitializers;
  std::string model;
  bool hasMs = false;
  for (const auto &[domain, version] : m.opsets)
    hasMs |= domain == "com.microsoft";
  for (const onnx::Field &f : m.fields) {
    if (f.number == 7)
      onnx::putBytes(model, 7, graph);
    else
      model.append(f.whole);
  }
  if (!hasMs)
    onnx::putBytes(model, 8, onnx::opsetImport("com.microsoft", 1));
  for (const onnx::Field &f : m.fields)
    report.bytesIn += f.whole.size();
  report.bytesOut = model.size();
  onnx::writeModelFile(output, model);
  return report;
}

} // namespace qc
