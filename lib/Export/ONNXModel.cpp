//===- ONNXModel.cpp - A language model as an ONNX graph ------------------===//
#include "qc/Export/ONNXModel.h"
#include "qc/Export/ONNXWeights.h"
#include "qc/Formats/Registry.h"
#include "qc/Import/ONNX.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace qc {

using model::FormatError;

namespace {

/// Appends nodes and initializers, naming each value once.
class GraphBuilder {
public:
  std::string nodes, initializers;
  OnnxModelReport report;

  /// One node of `type`; returns its (first) output.
  std::string op(const std::string &type, std::vector<std::string> inputs,
                 std::vector<std::string> attributes = {},
                 const std::string &domain = "", std::string out = "") {
    if (out.empty())
      out = type + "_" + std::to_string(count++);
    onnx::putBytes(nodes, 1,
                   onnx::nodeProto(out, type, domain, inputs, {out},
                                   attributes));
    return out;
  }
  std::string floats(const std::string &name, std::vector<int64_t> dims,
                     const float *values, size_t n) {
    add(name, onnx::Float, dims,
        std::string_view(reinterpret_cast<const char *>(values), n * 4));
    return name;
  }
  std::string ints(std::vector<int64_t> values) {
    std::string name = "ints_" + std::to_string(count++);
    add(name, onnx::Int64, {int64_t(values.size())},
        std::string_view(reinterpret_cast<const char *>(values.data()),
                         values.size() * 8));
    return name;
  }
  std::string scalar(float v) {
    std::string name = "scalar_" + std::to_string(count++);
    return floats(name, {}, &v, 1);
  }
  void add(const std::string &name, int32_t type, std::vector<int64_t> dims,
           std::string_view raw) {
    onnx::putBytes(initializers, 5, onnx::tensorProto(name, type, dims, raw));
  }

private:
  int count = 0;
};

class Exporter {
public:
  Exporter(const model::Model &m, bool kvInputs)
      : m(m), c(m.config), kvInputs(kvInputs) {}

  std::string build() {
    const int64_t D = c.dim, hd = c.headDim();
    ids = "input_ids";
    // The window's positions [start, end) (start: the past's length), for
    // slicing the position tables and the mask's rows [start, end) and
    // columns [0, end).
    std::string shape = g.op("Shape", {ids});
    std::string tLen = g.op("Slice", {shape, g.ints({1}), g.ints({2}), g.ints({0})});
    if (kvInputs) {
      std::string past = g.op("Shape", {pastName(0, "key")});
      start = g.op("Slice", {past, g.ints({2}), g.ints({3}), g.ints({0})});
      end = g.op("Add", {start, tLen});
    } else {
      start = g.ints({0});
      end = tLen;
    }
    maskStarts = g.op("Concat", {start, g.ints({0})}, {onnx::intAttribute("axis", 0)});
    maskEnds = g.op("Concat", {end, end}, {onnx::intAttribute("axis", 0)});
    tables(hd);
    std::vector<float> emb = weight("token_embd.weight");
    g.floats("token_embd", {c.vocab, D}, emb.data(), emb.size());
    std::string x = g.op("Gather", {"token_embd", ids});
    for (int64_t l = 0; l < c.layers; ++l) {
      std::string p = "blk." + std::to_string(l) + ".";
      std::string h = rmsNorm(x, p + "attn_norm.weight");
      std::string q = linear(h, p + "attn_q.weight", p + "attn_q.bias");
      std::string k = linear(h, p + "attn_k.weight", p + "attn_k.bias");
      std::string v = linear(h, p + "attn_v.weight", p + "attn_v.bias");
      x = g.op("Add", {x, linear(attention(q, k, v, l), p + "attn_output.weight")});
      h = rmsNorm(x, p + "ffn_norm.weight");
      std::string gate = linear(h, p + "ffn_gate.weight");
      std::string up = linear(h, p + "ffn_up.weight");
      std::string silu = g.op("Mul", {g.op("Sigmoid", {gate}), gate});
      x = g.op("Add", {x, linear(g.op("Mul", {silu, up}), p + "ffn_down.weight")});
    }
    std::string h = rmsNorm(x, "output_norm.weight");
    std::string logits = linear(
        h, c.tiedOutput ? "token_embd.weight" : "output.weight");
    return g.op("Identity", {logits}, {}, "", "logits");
  }

  GraphBuilder g;

  /// Optimum's names for the cache of layer `l`: [1, kv heads, P, hd].
  static std::string pastName(int64_t l, const char *kind) {
    return "past_key_values." + std::to_string(l) + "." + kind;
  }
  static std::string presentName(int64_t l, const char *kind) {
    return "present." + std::to_string(l) + "." + kind;
  }

private:
  /// The f32 values of a tensor, whatever its format.
  std::vector<float> weight(const std::string &name) {
    return m.tensor(name).toFloats();
  }

  std::string rmsNorm(const std::string &x, const std::string &name) {
    std::vector<float> w = weight(name);
    g.floats(name, {c.dim}, w.data(), w.size());
    std::string ms = g.op("ReduceMean", {g.op("Mul", {x, x})},
                          {onnx::intsAttribute("axes", {-1}),
                           onnx::intAttribute("keepdims", 1)});
    std::string r = g.op("Sqrt", {g.op("Add", {ms, g.scalar(c.normEps)})});
    return g.op("Mul", {g.op("Div", {x, r}), name});
  }

  /// x W^T (+ bias): MatMulNBits from the stored bytes when the format has
  /// that form, else MatMul on the float values of float formats.
  std::string linear(const std::string &x, const std::string &name,
                     const std::string &bias = "") {
    const model::Tensor &t = m.tensor(name);
    int64_t n = t.shape[0], k = t.shape[1];
    int bits = 0;
    int64_t block = 0;
    std::string y;
    if (matMulNBitsForm(t.format, bits, block).empty()) {
      std::string why;
      auto codec = formats::makeCodec(t.format, why);
      // Rows are stored padded to whole blocks, as MatMulNBits pads K.
      int64_t blocks = (k + block - 1) / block;
      std::string b, scales;
      why = packMatMulNBits(*codec, t.data(), n, blocks * block, bits, b,
                            scales);
      if (!why.empty())
        throw FormatError("tensor '" + name + "': " + why);
      g.add(name + "_q", onnx::Uint8, {n, blocks, block * bits / 8}, b);
      g.add(name + "_scales", onnx::Float, {n * blocks}, scales);
      y = g.op("MatMulNBits", {x, name + "_q", name + "_scales"},
               {onnx::intAttribute("K", k), onnx::intAttribute("N", n),
                onnx::intAttribute("bits", bits),
                onnx::intAttribute("block_size", block)},
               "com.microsoft");
      ++g.report.matMulNBits;
    } else if (t.format == "F32" || t.format == "F16" || t.format == "BF16") {
      std::vector<float> wt = onnx::transposed(t.toFloats(), n, k);
      g.floats(name, {k, n}, wt.data(), wt.size());
      y = g.op("MatMul", {x, name});
      ++g.report.floatMatMul;
    } else {
      throw FormatError("tensor '" + name + "' is " + t.format +
                        ", which has no ONNX form: " +
                        matMulNBitsForm(t.format, bits, block) +
                        " (F32, F16 and BF16 export as MatMul)");
    }
    if (!bias.empty() && m.has(bias)) {
      std::vector<float> b = weight(bias);
      g.floats(bias, {n}, b.data(), b.size());
      y = g.op("Add", {y, bias});
    }
    return y;
  }

  /// cos/sin [context, hd/2] as the reference's rope(), and the causal mask.
  void tables(int64_t hd) {
    int64_t C = c.context, half = hd / 2;
    std::vector<float> cs(size_t(C * half)), sn(cs.size());
    for (int64_t p = 0; p < C; ++p)
      for (int64_t i = 0; i < half; ++i) {
        float freq = std::pow(c.ropeTheta, -2.0f * float(i) / float(hd));
        float angle = float(p) * c.ropeFreqScale * freq;
        cs[size_t(p * half + i)] = std::cos(angle);
        sn[size_t(p * half + i)] = std::sin(angle);
      }
    g.floats("rope_cos", {C, half}, cs.data(), cs.size());
    g.floats("rope_sin", {C, half}, sn.data(), sn.size());
    std::vector<float> mask(size_t(C * C), 0.0f);
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = i + 1; j < C; ++j)
        mask[size_t(i * C + j)] = -std::numeric_limits<float>::infinity();
    g.floats("causal_mask", {C, C}, mask.data(), mask.size());
    // [1, T, 1, hd/2, 1] (interleaved pairs) or [1, T, 1, 1, hd/2] (halves).
    std::vector<int64_t> shape = c.ropeNeox ? std::vector<int64_t>{1, -1, 1, 1, half}
                                            : std::vector<int64_t>{1, -1, 1, half, 1};
    for (auto [table, out] : {std::pair{"rope_cos", &cosT}, {"rope_sin", &sinT}})
      *out = g.op("Reshape",
                  {g.op("Slice", {table, start, end, g.ints({0})}),
                   g.ints(shape)});
  }

  std::string rope(const std::string &x, int64_t heads) {
    int64_t hd = c.headDim(), half = hd / 2;
    int64_t axis = c.ropeNeox ? 3 : 4;
    std::vector<int64_t> split = c.ropeNeox
                                     ? std::vector<int64_t>{1, -1, heads, 2, half}
                                     : std::vector<int64_t>{1, -1, heads, half, 2};
    std::string r = g.op("Reshape", {x, g.ints(split)});
    std::string x0 = g.op("Slice", {r, g.ints({0}), g.ints({1}), g.ints({axis})});
    std::string x1 = g.op("Slice", {r, g.ints({1}), g.ints({2}), g.ints({axis})});
    std::string o0 = g.op("Sub", {g.op("Mul", {x0, cosT}), g.op("Mul", {x1, sinT})});
    std::string o1 = g.op("Add", {g.op("Mul", {x0, sinT}), g.op("Mul", {x1, cosT})});
    std::string joined = g.op("Concat", {o0, o1}, {onnx::intAttribute("axis", axis)});
    return g.op("Reshape", {joined, g.ints({1, -1, heads, hd})});
  }

  /// Repeats each of the kv heads (axis 1 of [1, KVH, a, b]) for its
  /// group of query heads.
  std::string repeatHeads(const std::string &x, int64_t a, int64_t b) {
    int64_t rep = c.heads / c.kvHeads;
    if (rep == 1)
      return x;
    std::string r = g.op("Reshape", {x, g.ints({1, c.kvHeads, 1, a, b})});
    r = g.op("Tile", {r, g.ints({1, 1, rep, 1, 1})});
    return g.op("Reshape", {r, g.ints({1, c.heads, a, b})});
  }

  std::string attention(const std::string &q, const std::string &k,
                        const std::string &v, int64_t layer) {
    int64_t hd = c.headDim();
    auto heads = [&](const std::string &x) { // [1, T, H, hd] -> [1, H, T, hd]
      return g.op("Transpose", {x}, {onnx::intsAttribute("perm", {0, 2, 1, 3})});
    };
    std::string qh = heads(rope(q, c.heads));
    std::string kh = heads(rope(k, c.kvHeads));
    std::string vh = heads(g.op("Reshape", {v, g.ints({1, -1, c.kvHeads, hd})}));
    if (kvInputs) { // the past's keys and values before the window's
      kh = g.op("Concat", {pastName(layer, "key"), kh},
                {onnx::intAttribute("axis", 2)}, "", presentName(layer, "key"));
      vh = g.op("Concat", {pastName(layer, "value"), vh},
                {onnx::intAttribute("axis", 2)}, "", presentName(layer, "value"));
    }
    kh = g.op("Transpose", {kh}, {onnx::intsAttribute("perm", {0, 1, 3, 2})});
    kh = repeatHeads(kh, hd, -1);
    vh = repeatHeads(vh, -1, hd);
    std::string scores = g.op("MatMul", {qh, kh});
    scores = g.op("Mul", {scores, g.scalar(1.0f / std::sqrt(float(hd)))});
    std::string mask =
        g.op("Slice", {"causal_mask", maskStarts, maskEnds, g.ints({0, 1})});
    std::string p = g.op("Softmax", {g.op("Add", {scores, mask})},
                         {onnx::intAttribute("axis", -1)});
    std::string o = g.op("Transpose", {g.op("MatMul", {p, vh})},
                         {onnx::intsAttribute("perm", {0, 2, 1, 3})});
    return g.op("Reshape", {o, g.ints({1, -1, c.heads * hd})});
  }

  const model::Model &m;
  const model::Config &c;
  bool kvInputs;
  std::string ids, start, end, maskStarts, maskEnds, cosT, sinT;
};

} // namespace

OnnxModelReport writeOnnxModel(const model::Model &m, const std::string &path,
                               bool kvInputs) {
  const model::Config &c = m.config;
  if (c.arch != "llama" && c.arch != "qwen2")
    throw FormatError("architecture '" + c.arch + "' has no ONNX export");
  Exporter e(m, kvInputs);
  std::string logits = e.build();
  std::string graph = e.g.nodes;
  onnx::putBytes(graph, 2, "qc");
  graph += e.g.initializers;
  onnx::putBytes(graph, 11, onnx::valueInfo("input_ids", onnx::Int64, {1, -1}, "T"));
  for (int64_t l = 0; kvInputs && l < c.layers; ++l)
    for (const char *kind : {"key", "value"})
      onnx::putBytes(graph, 11, onnx::valueInfo(Exporter::pastName(l, kind), onnx::Float,
                                                {1, c.kvHeads, -1, c.headDim()}, "P"));
  onnx::putBytes(graph, 12, onnx::valueInfo(logits, onnx::Float,
                                            {1, -1, c.vocab}, "T"));
  for (int64_t l = 0; kvInputs && l < c.layers; ++l)
    for (const char *kind : {"key", "value"})
      onnx::putBytes(graph, 12, onnx::valueInfo(Exporter::presentName(l, kind), onnx::Float,
                                                {1, c.kvHeads, -1, c.headDim()}, "P+T"));
  std::string model;
  onnx::putInt(model, 1, 8); // ir_version
  onnx::putBytes(model, 2, "qc");
  onnx::putBytes(model, 7, graph);
  onnx::putBytes(model, 8, onnx::opsetImport("", 17));
  onnx::putBytes(model, 8, onnx::opsetImport("com.microsoft", 1));
  onnx::writeModelFile(path, model);
  OnnxModelReport r = e.g.report;
  r.bytes = model.size();
  return r;
}

} // namespace qc
