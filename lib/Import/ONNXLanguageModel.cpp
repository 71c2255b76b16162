//===- ONNXLanguageModel.cpp - Decoders exported by torch.onnx.export -----===//
//
// Recognises a Llama or Qwen2 decoder in an ONNX graph by its data flow, not
// by names (torch names folded, transposed weights onnx::MatMul_123). From
// the logits back along the residual stream, every Add with one operand that
// is a product with a constant weight closes a branch: a branch whose
// product reads SiLU(gate) * up is the feed-forward network, one whose
// product reads softmax(Q K^T) V is attention. Shape computations (Shape,
// Reshape's shape, Slice's bounds) are never followed, so the walks see only
// the values that carry activations. Hyper-parameters come from the
// weights' shapes and the rotary embedding's frequencies.
//
//===----------------------------------------------------------------------===//

#include "qc/Import/ONNX.h"
#include "qc/Model/Model.h"
#include "RopeOrder.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace qc::model {
namespace {

using onnx::Node;

/// y = x W (+ b), W a constant matrix.
struct Linear {
  const Node *node = nullptr;
  std::string input;
  const onnx::Tensor *weight = nullptr;
  bool outByIn = false; // stored [out, in] (Gemm transB, a Transpose)
  const onnx::Tensor *bias = nullptr;
  int64_t in = 0, out = 0;
};

/// What a walk back from a value reached before it stopped.
struct Cone {
  std::vector<Linear> linears;        // products with constant weights
  std::vector<const Node *> products; // products of two activations
  std::vector<const Node *> nodes;    // every other node on the way
  std::vector<const onnx::Tensor *> constants;
  bool readsGraphInput = false;
};

struct Norm {
  std::string input;
  const onnx::Tensor *weight = nullptr;
  float eps = 0;
};

struct Rope {
  int64_t headDim = 0;
  float theta = 0, freqScale = 1;
  bool neox = false;
  int64_t positions = 0; // rows of a precomputed table, 0 when computed
};

struct Branch {
  bool attention = false;
  Norm norm;
  std::vector<Linear> linears; // q, k, v, output | gate, up, down
  Rope rope;
  const Node *at = nullptr;     // the residual Add
  bool kvInputs = false;
};

bool isFloatType(int32_t t) {
  return t == onnx::Float || t == onnx::Float16 || t == onnx::BFloat16 ||
         t == onnx::Double;
}

class Graph {
public:
  Graph(const onnx::Model &m) : m(m) {
    for (const Node &n : m.nodes)
      for (const std::string &o : n.outputs)
        producers[o] = &n;
    for (const onnx::Tensor &t : m.initializers)
      constants[t.name] = &t;
    for (const Node &n : m.nodes)
      if (const onnx::Attribute *a = n.opType == "Constant" && n.outputs.size() == 1
                                         ? n.attribute("value")
                                         : nullptr;
          a && a->t)
        constants[n.outputs[0]] = a->t.get();
    for (const std::string &i : m.inputs)
      if (!constants.count(i))
        inputs.insert(i);
  }

  [[noreturn]] void fail(const std::string &why) const {
    throw FormatError(m.path + ": " + why);
  }

  /// The value `v` stands for, past Identity and Cast.
  std::string skip(std::string v) const {
    // Bounded: a hostile graph may chain Identity nodes in a cycle.
    size_t steps = 0;
    for (const Node *p = raw(v);
         p && (p->opType == "Identity" || p->opType == "Cast") &&
         !p->inputs.empty() && steps++ <= m.nodes.size();
         p = raw(v))
      v = p->inputs[0];
    return v;
  }
  const Node *producer(const std::string &v) const { return raw(skip(v)); }
  const onnx::Tensor *constant(const std::string &v) const {
    auto it = constants.find(skip(v));
    return it == constants.end() ? nullptr : it->second;
  }
  std::optional<float> scalar(const std::string &v) const {
    const onnx::Tensor *t = constant(v);
    if (!t || t->elements() != 1 || !isFloatType(t->dataType))
      return std::nullopt;
    return t->floats()[0];
  }
  bool isInput(const std::string &v) const { return inputs.count(skip(v)); }
  bool same(const std::string &a, const std::string &b) const {
    return skip(a) == skip(b);
  }

  /// The product with a constant weight (and its bias) that yields `v`.
  std::optional<Linear> linearAt(const std::string &v) const {
    const Node *p = producer(v);
    if (!p)
      return std::nullopt;
    if (p->opType == "Add" && p->inputs.size() == 2)
      for (int i = 0; i < 2; ++i) {
        const onnx::Tensor *b = constant(p->inputs[i]);
        std::optional<Linear> l = product(producer(p->inputs[1 - i]));
        if (b && b->dims.size() == 1 && l && !l->bias && b->dims[0] == l->out) {
          l->bias = b;
          return l;
        }
      }
    return product(p);
  }

  /// Walks back from `v` through the nodes that carry activations, stopping
  /// at constants, graph inputs, constant-weight products and (with
  /// `stopAtProducts`) products of two activations.
  Cone walkBack(const std::string &v, bool stopAtProducts) const {
    Cone c;
    std::unordered_set<std::string> seen;
    std::vector<std::string> work{v};
    while (!work.empty()) {
      std::string x = skip(work.back());
      work.pop_back();
      if (!seen.insert(x).second)
        continue;
      if (const onnx::Tensor *t = constant(x)) {
        if (isFloatType(t->dataType))
          c.constants.push_back(t);
        continue;
      }
      if (inputs.count(x)) {
        c.readsGraphInput = true;
        continue;
      }
      if (std::optional<Linear> l = linearAt(x)) {
        c.linears.push_back(*l);
        continue;
      }
      const Node *p = raw(x);
      if (!p)
        continue;
      if (stopAtProducts && p->opType == "MatMul" && p->inputs.size() == 2 &&
          !constant(p->inputs[0]) && !constant(p->inputs[1])) {
        c.products.push_back(p);
        continue;
      }
      c.nodes.push_back(p);
      for (size_t i : dataInputs(*p))
        if (i < p->inputs.size() && !p->inputs[i].empty())
          work.push_back(p->inputs[i]);
    }
    return c;
  }

  /// x * rsqrt(mean(x^2) + eps) * w, as torch writes it, or one RMS norm op.
  std::optional<Norm> rmsNorm(const std::string &v) const {
    const Node *p = producer(v);
    if (!p || p->inputs.size() < 2)
      return std::nullopt;
    if (p->opType == "SimplifiedLayerNormalization" ||
        p->opType == "RMSNormalization") {
      const onnx::Tensor *w = constant(p->inputs[1]);
      if (!w || w->dims.size() != 1)
        return std::nullopt;
      const onnx::Attribute *e = p->attribute("epsilon");
      return Norm{p->inputs[0], w, e ? e->f : 1e-5f};
    }
    if (p->opType != "Mul")
      return std::nullopt;
    for (int i = 0; i < 2; ++i) {
      const onnx::Tensor *w = constant(p->inputs[i]);
      if (!w || w->dims.size() != 1)
        continue;
      if (std::optional<Norm> n = normalized(p->inputs[1 - i])) {
        n->weight = w;
        return n;
      }
    }
    return std::nullopt;
  }

  /// The frequencies of the rotary embedding on the query path into `qk`.
  std::optional<Rope> rope(const Cone &q, const Node &qk) const {
    Rope r;
    bool sub = false;
    for (const Node *n : q.nodes) {
      r.neox |= n->opType == "Neg"; // rotate_half: cat(-x2, x1)
      sub |= n->opType == "Sub";    // (a + ib)(cos + i sin) on pairs
    }
    if (!r.neox && !sub)
      return std::nullopt;
    std::vector<double> freqs;
    const onnx::Tensor *cosTable = nullptr, *sinTable = nullptr;
    for (const onnx::Tensor *t : q.constants) {
      if (t->elements() < 2)
        continue;
      bool table = t->dims.size() == 2 && t->dims[0] >= 2;
      if (!table) { // inv_freq: every value in (0, 1]
        std::vector<float> f = t->floats();
        bool ok = true;
        for (float x : f)
          ok &= x > 0 && x <= 1;
        if (ok)
          freqs.assign(f.begin(), f.end());
        continue;
      }
      std::vector<float> f = t->floats();
      int64_t w = t->dims[1];
      bool ones = true, zeros = true;
      for (int64_t j = 0; j < w; ++j) {
        ones &= f[j] == 1.0f;
        zeros &= f[j] == 0.0f;
      }
      if (ones) // cos(0 * f) in the first row
        cosTable = t;
      else if (zeros)
        sinTable = t;
    }
    if (sinTable && cosTable && sinTable->dims != cosTable->dims)
      sinTable = nullptr;
    if (freqs.empty() && cosTable) {
      std::vector<float> c = cosTable->floats(), s;
      if (sinTable)
        s = sinTable->floats();
      int64_t w = cosTable->dims[1];
      r.positions = cosTable->dims[0];
      for (int64_t j = 0; j < w; ++j) // position 1: the angle is the frequency
        freqs.push_back(s.empty() ? std::acos(double(c[w + j]))
                                  : std::atan2(double(s[w + j]), double(c[w + j])));
    }
    if (freqs.empty())
      return std::nullopt;
    // Hugging Face repeats the frequencies for the two halves.
    size_t n = freqs.size();
    if (n % 2 == 0) {
      bool repeated = true;
      for (size_t j = 0; j < n / 2; ++j)
        repeated &= std::fabs(freqs[j] - freqs[j + n / 2]) <= 1e-6 * freqs[j];
      if (repeated)
        freqs.resize(n / 2);
    }
    n = freqs.size();
    for (double f : freqs)
      if (!(f > 0 && f <= 4)) // finite, and a rotation per position below pi
        fail(qk.describe() + ": a rotary frequency of " + std::to_string(f));
    r.headDim = int64_t(2 * n);
    // 1 unless positions are scaled (a table's angles round in f32).
    r.freqScale = std::fabs(freqs[0] - 1) <= 1e-5 ? 1.0f : float(freqs[0]);
    double theta = 10000;
    if (n >= 2)
      theta = std::pow(freqs[0] / freqs[n - 1], double(r.headDim) / (2.0 * double(n - 1)));
    // A geometric series, or the model scales its frequencies (Llama 3).
    for (size_t j = 0; j < n; ++j) {
      double expect = freqs[0] * std::pow(theta, -2.0 * double(j) / double(r.headDim));
      if (std::fabs(freqs[j] - expect) > 1e-3 * expect)
        fail(qk.describe() + ": the rotary frequencies on its query are not "
             "base^(-2i/d) (frequency " +
             std::to_string(j) + " is " + std::to_string(freqs[j]) +
             ", expected " + std::to_string(expect) +
             "): scaled rotary embeddings are not supported");
    }
    // Bases are round numbers: 10000, 500000, 1e6.
    double magnitude = std::pow(10.0, std::floor(std::log10(theta)) - 3);
    double rounded = std::round(theta / magnitude) * magnitude;
    r.theta = float(std::fabs(rounded - theta) <= 1e-4 * theta ? rounded : theta);
    return r;
  }

  const onnx::Model &m;

private:
  const Node *raw(const std::string &v) const {
    auto it = producers.find(v);
    return it == producers.end() ? nullptr : it->second;
  }

  /// Which inputs of `n` carry activations (not shapes, indices or bounds).
  static std::vector<size_t> dataInputs(const Node &n) {
    static const std::set<std::string> leaves = {"Shape", "ConstantOfShape",
                                                 "Range", "Size"};
    static const std::set<std::string> firstOnly = {
        "Reshape", "Slice", "Expand", "Unsqueeze", "Squeeze", "Split",
        "Tile", "Gather", "Transpose", "Pad", "Trilu"};
    if (leaves.count(n.opType))
      return {};
    if (firstOnly.count(n.opType))
      return {0};
    if (n.opType == "Where")
      return {1, 2};
    std::vector<size_t> all(n.inputs.size());
    for (size_t i = 0; i < all.size(); ++i)
      all[i] = i;
    return all;
  }

  /// A MatMul or Gemm by a constant weight matrix (both sides > 1).
  std::optional<Linear> product(const Node *p) const {
    if (!p || p->inputs.size() < 2 ||
        (p->opType != "MatMul" && p->opType != "Gemm"))
      return std::nullopt;
    Linear l;
    l.node = p;
    l.input = p->inputs[0];
    l.weight = constant(p->inputs[1]);
    if (!l.weight) { // a Transpose of a constant [out, in]
      const Node *t = producer(p->inputs[1]);
      const onnx::Attribute *perm = t ? t->attribute("perm") : nullptr;
      if (!t || t->opType != "Transpose" || t->inputs.empty() ||
          (perm && perm->ints != std::vector<int64_t>{1, 0}))
        return std::nullopt;
      l.weight = constant(t->inputs[0]);
      l.outByIn = true;
    }
    if (!l.weight || l.weight->dims.size() != 2 || !isFloatType(l.weight->dataType))
      return std::nullopt;
    if (p->opType == "Gemm") {
      auto attr = [&](const char *name, int64_t dflt) {
        const onnx::Attribute *a = p->attribute(name);
        return a ? a->i : dflt;
      };
      auto f = [&](const char *name) {
        const onnx::Attribute *a = p->attribute(name);
        return a ? a->f : 1.0f;
      };
      if (attr("transA", 0) != 0 || f("alpha") != 1.0f || f("beta") != 1.0f)
        return std::nullopt;
      l.outByIn ^= attr("transB", 0) != 0;
      if (p->inputs.size() > 2 && !p->inputs[2].empty()) {
        l.bias = constant(p->inputs[2]);
        if (!l.bias || l.bias->dims.size() != 1)
          return std::nullopt;
      }
    }
    l.in = l.weight->dims[l.outByIn ? 1 : 0];
    l.out = l.weight->dims[l.outByIn ? 0 : 1];
    if (l.in < 2 || l.out < 2 || (l.bias && l.bias->dims[0] != l.out))
      return std::nullopt;
    return l;
  }

  /// x * rsqrt(mean(x^2) + eps), returning x and eps.
  std::optional<Norm> normalized(const std::string &v) const {
    const Node *p = producer(v);
    if (!p || p->inputs.size() != 2)
      return std::nullopt;
    std::vector<std::pair<std::string, std::string>> splits; // x, root
    if (p->opType == "Mul")
      for (int i = 0; i < 2; ++i) {
        const Node *r = producer(p->inputs[i]);
        if (!r)
          continue;
        if (r->opType == "Reciprocal" && r->inputs.size() == 1)
          splits.emplace_back(p->inputs[1 - i], r->inputs[0]);
        if (r->opType == "Div" && r->inputs.size() == 2 && scalar(r->inputs[0]) == 1.0f)
          splits.emplace_back(p->inputs[1 - i], r->inputs[1]);
      }
    if (p->opType == "Div")
      splits.emplace_back(p->inputs[0], p->inputs[1]);
    for (auto &[x, root] : splits)
      if (std::optional<float> eps = meanSquarePlusEps(root, x))
        return Norm{x, nullptr, *eps};
    return std::nullopt;
  }

  /// sqrt(mean(x^2, last axis) + eps): eps.
  std::optional<float> meanSquarePlusEps(const std::string &root,
                                         const std::string &x) const {
    const Node *s = producer(root);
    if (!s || s->opType != "Sqrt" || s->inputs.size() != 1)
      return std::nullopt;
    const Node *a = producer(s->inputs[0]);
    if (!a || a->opType != "Add" || a->inputs.size() != 2)
      return std::nullopt;
    for (int i = 0; i < 2; ++i) {
      std::optional<float> eps = scalar(a->inputs[i]);
      const Node *mean = producer(a->inputs[1 - i]);
      if (!eps || !mean || mean->opType != "ReduceMean" || mean->inputs.empty())
        continue;
      const onnx::Attribute *axes = mean->attribute("axes");
      if (axes && axes->ints != std::vector<int64_t>{-1} &&
          axes->ints != std::vector<int64_t>{2})
        continue;
      const Node *sq = producer(mean->inputs[0]);
      if (!sq || sq->inputs.size() != 2)
        continue;
      bool square =
          (sq->opType == "Pow" && same(sq->inputs[0], x) && scalar(sq->inputs[1]) == 2.0f) ||
          (sq->opType == "Mul" && same(sq->inputs[0], x) && same(sq->inputs[1], x));
      if (square)
        return eps;
    }
    return std::nullopt;
  }

  std::unordered_map<std::string, const Node *> producers;
  std::unordered_map<std::string, const onnx::Tensor *> constants;
  std::unordered_set<std::string> inputs;
};

/// The value of an activation Node reading `v` names, for errors.
std::string describeProducer(const Graph &g, const std::string &v) {
  const Node *p = g.producer(v);
  return p ? p->describe() : "value '" + v + "'";
}

/// SiLU(gate) * up into down: the branch, or nullopt when `down` reads
/// something else.
std::optional<Branch> matchFeedForward(const Graph &g, const Linear &down) {
  const Node *mul = g.producer(down.input);
  if (!mul || mul->opType != "Mul" || mul->inputs.size() != 2)
    return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    // silu(g) = g * sigmoid(g)
    const Node *act = g.producer(mul->inputs[i]);
    if (!act || act->opType != "Mul" || act->inputs.size() != 2)
      continue;
    for (int j = 0; j < 2; ++j) {
      const Node *sig = g.producer(act->inputs[j]);
      if (!sig || sig->opType != "Sigmoid" || sig->inputs.empty() ||
          !g.same(sig->inputs[0], act->inputs[1 - j]))
        continue;
      std::optional<Linear> gate = g.linearAt(act->inputs[1 - j]);
      std::optional<Linear> up = g.linearAt(mul->inputs[1 - i]);
      if (!gate || !up || !g.same(gate->input, up->input))
        continue;
      Branch b;
      b.linears = {*gate, *up, down};
      return b;
    }
  }
  return std::nullopt;
}

/// softmax(Q K^T * scale + mask) V into `output`.
std::optional<Branch> matchAttention(const Graph &g, const Linear &output) {
  Cone mixed = g.walkBack(output.input, /*stopAtProducts=*/true);
  if (mixed.products.size() != 1 || !mixed.linears.empty())
    return std::nullopt;
  const Node *pv = mixed.products[0];
  int pIndex = -1;
  for (int i = 0; i < 2; ++i)
    if (const Node *s = g.producer(pv->inputs[i]); s && s->opType == "Softmax")
      pIndex = i;
  if (pIndex < 0)
    return std::nullopt;
  const Node *softmax = g.producer(pv->inputs[pIndex]);
  if (softmax->inputs.empty())
    g.fail(softmax->describe() + ": no input");
  if (const onnx::Attribute *axis = softmax->attribute("axis");
      axis && axis->i != -1 && axis->i != 3)
    g.fail(softmax->describe() + ": attention softmax over axis " +
           std::to_string(axis->i) + ", expected the last");
  Cone scores = g.walkBack(softmax->inputs[0], true);
  if (scores.products.size() != 1 || !scores.linears.empty())
    g.fail(softmax->describe() + ": its scores are not one product Q K^T");
  const Node *qk = scores.products[0];
  Cone q = g.walkBack(qk->inputs[0], true), k = g.walkBack(qk->inputs[1], true),
       v = g.walkBack(pv->inputs[1 - pIndex], true);
  for (auto [cone, what] : {std::pair{&q, "query"}, {&k, "key"}, {&v, "value"}})
    if (cone->linears.size() != 1 || !cone->products.empty())
      g.fail(qk->describe() + ": the " + what + " is not one projection of " +
             "the block's input (" + std::to_string(cone->linears.size()) +
             " found)");
  Branch b;
  b.attention = true;
  b.linears = {q.linears[0], k.linears[0], v.linears[0], output};
  if (!g.same(q.linears[0].input, k.linears[0].input) ||
      !g.same(q.linears[0].input, v.linears[0].input))
    g.fail(qk->describe() + ": the query, key and value read different inputs");
  b.kvInputs = k.readsGraphInput || v.readsGraphInput;

  std::optional<Rope> rope = g.rope(q, *qk);
  if (!rope)
    g.fail(qk->describe() + ": no rotary embedding (rotate_half or rotated "
                            "pairs by cos/sin tables or inv_freq) on its query");
  b.rope = *rope;
  // The scale may sit on the scores, or on q and k.
  double scale = 1;
  bool scaled = false, masked = false;
  for (const Cone *c : {&scores, &q, &k})
    for (const Node *n : c->nodes) {
      if (n->inputs.size() != 2)
        continue;
      if (n->opType == "Mul")
        for (int i = 0; i < 2; ++i)
          if (std::optional<float> s = g.scalar(n->inputs[i])) {
            scale *= *s;
            scaled = true;
          }
      if (n->opType == "Div")
        if (std::optional<float> s = g.scalar(n->inputs[1])) {
          scale /= *s;
          scaled = true;
        }
      masked |= c == &scores && (n->opType == "Where" ||
                                 (n->opType == "Add" && !g.scalar(n->inputs[0]) &&
                                  !g.scalar(n->inputs[1])));
    }
  double expect = 1.0 / std::sqrt(double(rope->headDim));
  if (!scaled || std::fabs(scale - expect) > 1e-3 * expect)
    g.fail(qk->describe() + ": attention scale " + std::to_string(scale) +
           " is not 1/sqrt(head_dim " + std::to_string(rope->headDim) + ")");
  if (!masked)
    g.fail(softmax->describe() + ": no causal mask on the attention scores");
  return b;
}

Tensor weightTensor(const Graph &g, const std::string &name,
                    const onnx::Tensor &t, bool transpose) {
  std::vector<float> f = t.floats();
  for (float x : f)
    if (!std::isfinite(x))
      g.fail("tensor '" + t.name + "' (" + name +
             ") holds a NaN or infinite value");
  if (!transpose)
    return Tensor::fromFloats(name, t.dims, f.data());
  std::vector<float> out = onnx::transposed(f, t.dims[0], t.dims[1]);
  return Tensor::fromFloats(name, {t.dims[1], t.dims[0]}, out.data());
}

} // namespace

Model readONNXLanguageModel(const std::string &path) {
  onnx::Model om = onnx::readModel(path);
  Graph g(om);
  if (om.outputs.empty())
    g.fail("the graph has no outputs");
  std::string logits = om.outputs[0];
  for (const std::string &o : om.outputs)
    if (o == "logits")
      logits = o;
  std::optional<Linear> head = g.linearAt(logits);
  if (!head)
    g.fail(describeProducer(g, logits) + ": the output '" + logits +
           "' is not a product with a constant weight (the language-model head)");
  if (head->bias)
    g.fail(head->node->describe() + ": a bias on the language-model head");
  std::optional<Norm> outputNorm = g.rmsNorm(head->input);
  if (!outputNorm)
    g.fail(describeProducer(g, head->input) +
           ": the head's input is not an RMS norm");

  // Down the residual stream from the top, one branch per Add.
  std::vector<Branch> branches;
  std::string x = outputNorm->input;
  const onnx::Tensor *embedding = nullptr;
  std::set<const Node *> residualAdds; // a hostile graph may be a cycle
  for (;;) {
    const Node *p = g.producer(x);
    if (!p)
      g.fail("the residual stream reaches '" + x + "', which no node computes");
    if (!residualAdds.insert(p).second)
      g.fail(p->describe() + ": the residual stream runs in a cycle");
    if (p->opType == "Gather" && p->inputs.size() == 2) {
      embedding = g.constant(p->inputs[0]);
      if (!embedding || embedding->dims.size() != 2 || !g.isInput(p->inputs[1]))
        g.fail(p->describe() + ": expected the token embedding (a constant "
                               "table indexed by a graph input)");
      break;
    }
    if (p->opType != "Add" || p->inputs.size() != 2)
      g.fail(p->describe() + ": expected a residual Add or the token "
                             "embedding's Gather");
    std::optional<Branch> branch;
    std::string reads; // what an unrecognised branch's product reads
    for (int i = 0; i < 2 && !branch; ++i) {
      std::optional<Linear> l = g.linearAt(p->inputs[i]);
      if (!l)
        continue;
      reads = " (its product " + l->node->describe() + " reads " +
              describeProducer(g, l->input) + ")";
      branch = matchFeedForward(g, *l);
      if (!branch)
        branch = matchAttention(g, *l);
      if (!branch)
        continue;
      std::optional<Norm> n = g.rmsNorm(branch->linears[0].input);
      if (!n)
        g.fail(describeProducer(g, branch->linears[0].input) + ": the " +
               (branch->attention ? "attention" : "feed-forward") +
               " branch's input is not an RMS norm");
      if (!g.same(n->input, p->inputs[1 - i]))
        g.fail(p->describe() + ": the branch does not normalise the residual "
                               "it adds to (parallel blocks are not supported)");
      branch->norm = *n;
      branch->at = p;
      x = p->inputs[1 - i];
    }
    if (!branch)
      g.fail(p->describe() + ": neither operand is an attention or a SwiGLU "
                             "feed-forward branch" + reads);
    branches.push_back(*branch);
  }
  if (branches.empty() || branches.size() % 2 != 0)
    g.fail("found " + std::to_string(branches.size()) +
           " residual branches, expected attention and feed-forward pairs");

  Model m;
  m.source = path;
  Config &c = m.config;
  c.vocab = embedding->dims[0];
  c.dim = embedding->dims[1];
  c.layers = int64_t(branches.size() / 2);
  c.normEps = outputNorm->eps;
  std::reverse(branches.begin(), branches.end());
  const Branch &first = branches[0];
  c.ropeTheta = first.rope.theta;
  c.ropeFreqScale = first.rope.freqScale;
  c.ropeNeox = first.rope.neox;
  c.context = first.rope.positions ? first.rope.positions : 4096;
  int64_t headDim = first.rope.headDim;
  c.heads = first.linears.empty() ? 0 : first.linears[0].out / headDim;
  c.kvHeads = first.linears.size() > 1 ? first.linears[1].out / headDim : 0;
  c.hidden = branches[1].linears[0].out;
  c.qkvBias = first.linears[0].bias != nullptr;
  c.arch = c.qkvBias && c.ropeNeox ? "qwen2" : "llama";
  if (c.heads * headDim != c.dim)
    g.fail(first.linears[0].node->describe() + ": the query has " +
           std::to_string(first.linears[0].out) + " outputs for a model " +
           "dimension " + std::to_string(c.dim) + " (heads * head_dim must be the dimension)");

  static const char *attentionNames[] = {"attn_q", "attn_k", "attn_v", "attn_output"};
  static const char *ffnNames[] = {"ffn_gate", "ffn_up", "ffn_down"};
  auto put = [&](const std::string &name, const onnx::Tensor &t, bool transpose) {
    m.tensors[name] = weightTensor(g, name, t, transpose);
  };
  for (size_t i = 0; i < branches.size(); ++i) {
    const Branch &b = branches[i];
    int64_t layer = int64_t(i / 2);
    std::string prefix = "blk." + std::to_string(layer) + ".";
    if (b.attention != (i % 2 == 0))
      g.fail(b.at->describe() + ": expected " +
             (i % 2 == 0 ? "an attention" : "a feed-forward") + " branch");
    if (b.norm.eps != c.normEps)
      g.fail(b.at->describe() + ": RMS norm epsilon " + std::to_string(b.norm.eps) +
             " differs from the output norm's " + std::to_string(c.normEps));
    put(prefix + (b.attention ? "attn_norm.weight" : "ffn_norm.weight"),
        *b.norm.weight, false);
    if (b.attention && (b.rope.headDim != headDim || b.rope.neox != c.ropeNeox ||
                        b.rope.theta != c.ropeTheta))
      g.fail(b.at->describe() + ": its rotary embedding differs from block 0's");
    for (size_t j = 0; j < b.linears.size(); ++j) {
      const Linear &l = b.linears[j];
      std::string name = prefix + (b.attention ? attentionNames[j] : ffnNames[j]);
      bool wantBias = b.attention && j < 3 && c.qkvBias;
      if ((l.bias != nullptr) != wantBias)
        g.fail(l.node->describe() + ": " + (l.bias ? "a bias on " : "no bias on ") +
               name + (l.bias ? " (only q, k and v may have one, all of them)"
                              : " where block 0's query has one"));
      put(name + ".weight", *l.weight, !l.outByIn);
      if (l.bias)
        put(name + ".bias", *l.bias, false);
    }
  }
  put("token_embd.weight", *embedding, false);
  put("output_norm.weight", *outputNorm->weight, false);
  Tensor out = weightTensor(g, "output.weight", *head->weight, !head->outByIn);
  c.tiedOutput = out.shape == m.tensors["token_embd.weight"].shape &&
                 out.bytes == m.tensors["token_embd.weight"].bytes;
  if (!c.tiedOutput)
    m.tensors["output.weight"] = std::move(out);
  // As the safetensors reader does: "llama" rotates pairs everywhere in qc
  // (and in the GGUF files it writes); Qwen2 keeps its halves.
  if (c.arch == "llama" && c.ropeNeox) {
    for (int64_t l = 0; l < c.layers; ++l) {
      std::string p = "blk." + std::to_string(l) + ".";
      permuteForRope(m.tensors[p + "attn_q.weight"], c.heads);
      permuteForRope(m.tensors[p + "attn_k.weight"], c.kvHeads);
    }
    c.ropeNeox = false;
  }
  m.metadata["general.architecture"] = c.arch;
  m.metadata["onnx.kv_inputs"] = first.kvInputs ? "true" : "false";
  return m;
}

} // namespace qc::model
