//===- Runtime.cpp - Loads a compiled model and runs its graph ------------===//
//
// Runs the graph in its order: every operation calls a generated kernel —
// the products (output head included) the one bound to their weight's
// format and shape, straight on the packed bytes; norms, RoPE, the KV cache,
// attention, SwiGLU and residual adds the graph kernels of qc-lower-graph-ops.
// What stays here: the embedding lookup, the QKV biases, activation
// quantization for int8 kernels, and handing work to the thread pool.
//
//===----------------------------------------------------------------------===//
#include "qc/runtime.h"

#include "ThreadPool.h"
#include "qc/Formats/Codec.h"
#include "qc/KernelABI.h"
#include "qc/Model/Archive.h"
#include "qc/Model/Model.h"
#include "qc/Tokenizer/Tokenizer.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <cstring>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

using qc::model::FormatError;

namespace {

// Kernel keys and signatures: qc/KernelABI.h, shared with the compiler.
using qc::abi::MemRef;
using qc::abi::view;
using Floats = MemRef<float>;
using KernelF32 = qc::abi::LinearF32::Fn;
using KernelQ8 = qc::abi::LinearQ8::Fn;
using QuantizeFn = qc::abi::QuantizeQ8::Fn;
using RmsNormFn = qc::abi::RmsNorm::Fn;
using RopeTableFn = qc::abi::RopeTable::Fn;
using RopeFn = qc::abi::Rope::Fn;
using KVStoreFn = qc::abi::KVStore::Fn;
using AttentionFn = qc::abi::Attention::Fn;
using ElementwiseFn = qc::abi::Elementwise::Fn;

/// The graph kernels a model needs, found by key in the table.
struct GraphKernels {
  RmsNormFn rmsNorm;
  RopeTableFn ropeTable;
  RopeFn ropeQ, ropeK;
  KVStoreFn kvStore;
  AttentionFn attention;
  ElementwiseFn swiglu, add;
  int64_t kvRowElements; // cache elements per position
  int64_t kvElementBytes;
};

/// One weight bound to its kernel.
struct Linear {
  const qc::model::Tensor *tensor = nullptr;
  int64_t rows = 0, cols = 0;
  void *kernel = nullptr;
  /// q8 kernels: the weights per activation scale, 32 ("@q8") or 256
  /// ("@q8k"); 0: f32 activations.
  int64_t q8Block = 0;
  QuantizeFn quantize = nullptr; // of q8 kernels' inputs
};

/// Activations quantized per block (32 or 256) to int8, zero padded to
/// whole blocks, with the block scales and the sums of every 16 codes, as
/// q8 kernels read; the quantize kernels fill them.
struct Q8Activations {
  std::vector<int8_t> codes;
  std::vector<float> scales;
  std::vector<int32_t> sums;
  void resize(int64_t T, int64_t K, int64_t block) {
    int64_t blocks = (K + block - 1) / block;
    codes.resize(T * blocks * block);
    scales.resize(T * blocks);
    sums.resize(T * blocks * block / 16);
  }
};

/// Whether this CPU has an x86 feature (cpuid; names as LLVM spells them).
bool cpuHas(const std::string &f) {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  __get_cpuid(1, &a, &b, &c, &d);
  unsigned c1 = c;
  __get_cpuid_count(7, 0, &a, &b, &c, &d);
  unsigned b7 = b, c7 = c;
  __get_cpuid_count(7, 1, &a, &b, &c, &d);
  unsigned a71 = a;
  if (f == "avx") return c1 >> 28 & 1;
  if (f == "fma") return c1 >> 12 & 1;
  if (f == "f16c") return c1 >> 29 & 1;
  if (f == "avx2") return b7 >> 5 & 1;
  if (f == "avx512f") return b7 >> 16 & 1;
  if (f == "avx512bw") return b7 >> 30 & 1;
  if (f == "avx512vl") return b7 >> 31 & 1;
  if (f == "avx512vnni") return c7 >> 11 & 1;
  if (f == "avx512vbmi") return c7 >> 1 & 1;
  if (f == "avxvnni") return a71 >> 4 & 1;
#endif
  return false;
}

/// The features of `list` (comma-separated) this CPU lacks.
std::string missingFeatures(const char *list) {
  std::string missing, name;
  for (const char *p = list;; ++p) {
    if (*p && *p != ',') {
      name += *p;
      continue;
    }
    if (!name.empty() && !cpuHas(name))
      missing += (missing.empty() ? "" : ", ") + name;
    name.clear();
    if (!*p)
      return missing;
  }
}

} // namespace

/// Anonymous memory for the weights, on huge pages where the kernel gives
/// them: the kernels stream every weight per token, and 4 KiB pages of a
/// mapped file cost a third of the speed in TLB misses.
struct WeightCopy {
  void *base = MAP_FAILED;
  size_t size = 0;
  ~WeightCopy() {
    if (base != MAP_FAILED)
      munmap(base, size);
  }
  /// Moves every tensor's bytes into one huge-page region.
  void take(qc::model::Model &m) {
    for (const auto &[name, t] : m.tensors)
      size += (t.size() + 63) / 64 * 64;
    base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
      throw FormatError("cannot allocate " + std::to_string(size) +
                        " bytes for the weights");
#ifdef MADV_HUGEPAGE
    madvise(base, size, MADV_HUGEPAGE);
#endif
    auto *at = static_cast<uint8_t *>(base);
    for (auto &[name, t] : m.tensors) {
      uint64_t n = t.size();
      std::memcpy(at, t.data(), n);
      t.bytes.clear();
      t.view = at;
      t.viewSize = n;
      t.fileBacked = false; // releasing its pages would zero it
      at += (n + 63) / 64 * 64;
    }
    m.mapping.reset(); // the file is no longer needed
  }
};

struct qc_model {
  qc::model::Model model;
  WeightCopy weightCopy;
  bool releaseBlocks = false; // qc_options.mmap == 2
  qc::model::Config cfg;
  std::unique_ptr<qc::Tokenizer> tokenizer;
  std::unique_ptr<qc::runtime::ThreadPool> pool;
  std::string error, piece;
  GraphKernels graph;

  struct Layer {
    const float *attnNorm, *ffnNorm;
    const float *bq = nullptr, *bk = nullptr, *bv = nullptr;
    Linear q, k, v, o, gate, up, down;
    std::vector<uint8_t> keys, values; // the KV cache, compiled type
  };
  std::vector<Layer> layers;
  Linear output;
  const qc::model::Tensor *embedding = nullptr;
  std::unique_ptr<qc::formats::Codec> embeddingCodec;
  const float *outputNorm = nullptr;
  /// Per activation block: [0] 32, [1] 256.
  Q8Activations q8[2];
  /// A weight and where its T x rows results go.
  struct Product {
    const Linear *L;
    float *y;
  };
  /// Rows r0..r1 of one product: a job of the pool.
  struct Chunk {
    const Product *product;
    int64_t r0, r1;
  };
  std::vector<Chunk> chunks;
  qc_input_observer observer = nullptr;
  void *observerUser = nullptr;
  struct {
    std::vector<float> x, xn, q, k, v, att, o, g, u, rot;
  } scratch;

  const float *floats(const std::string &name, int64_t n);
  Linear bind(const std::unordered_map<std::string, void *> &kernels,
              const std::string &name);
  void bindGraph(const std::unordered_map<std::string, void *> &kernels);
  /// The products of one input x (T x K): x quantized once for those with
  /// q8 kernels, then the row chunks of all of them as one job list on the
  /// pool (one barrier for q, k and v).
  void project(std::initializer_list<Product> products, const float *x,
               int64_t T);
  /// Reports x, the input of `products`, to the observer (if any).
  void observe(std::initializer_list<Product> products, const float *x,
               int64_t T);
  /// rms_norm over T rows on the pool.
  void norm(const float *x, const float *w, float *y, int64_t T);
  /// An element-wise kernel over n floats on the pool.
  void elementwise(ElementwiseFn fn, float *out, const float *in, int64_t n);
  void forward(const int32_t *tokens, int64_t T, int64_t pos, bool all,
               float *logits);
};

const float *qc_model::floats(const std::string &name, int64_t n) {
  const qc::model::Tensor &t = model.tensor(name);
  if (t.format != "F32" || t.numElements() != n)
    throw FormatError("weight '" + name + "' must be " + std::to_string(n) +
                      " F32 values, the archive has " + t.format);
  return reinterpret_cast<const float *>(t.data());
}

Linear qc_model::bind(const std::unordered_map<std::string, void *> &kernels,
                      const std::string &name) {
  Linear L;
  L.tensor = &model.tensor(name);
  L.rows = L.tensor->rows();
  L.cols = L.tensor->cols();
  std::string key = qc::abi::linearKey(L.tensor->format, L.rows, L.cols);
  for (int64_t block : {32, 256}) {
    auto it = kernels.find(key + qc::abi::q8Suffix(block));
    if (it == kernels.end())
      continue;
    L.kernel = it->second;
    L.q8Block = block;
    std::string quantize = qc::abi::quantizeKey(block, L.cols);
    auto q = kernels.find(quantize);
    if (q == kernels.end())
      throw FormatError("the compiled model has no '" + quantize + "' kernel "
                        "for '" + name + "' (recompile)");
    L.quantize = QuantizeFn(q->second);
    return L;
  }
  if (auto it = kernels.find(key); it != kernels.end()) {
    L.kernel = it->second;
  } else {
    throw FormatError("weights file does not match the compiled model: no "
                      "kernel for '" + name + "' (" + key + ")");
  }
  return L;
}

void qc_model::bindGraph(
    const std::unordered_map<std::string, void *> &kernels) {
  const auto &c = cfg;
  auto find = [&](const std::string &key) -> void * {
    auto it = kernels.find(key);
    return it == kernels.end() ? nullptr : it->second;
  };
  auto need = [&](const std::string &key) {
    void *fn = find(key);
    if (!fn)
      throw FormatError("weights file does not match the compiled model: no "
                        "graph kernel '" + key + "'");
    return fn;
  };

  // The KV cache's element type is the compiled one. A q8 row holds the
  // int8 codes, then an f32 scale per KV head.
  std::string type = "f32";
  for (const char *t : {"f16", "q8"})
    if (find(qc::abi::kvStoreKey(c.kvDim(), t)))
      type = t;
  graph.kvElementBytes = type == "f16" ? 2 : type == "q8" ? 1 : 4;
  graph.kvRowElements = type == "q8" ? c.kvDim() + 4 * c.kvHeads : c.kvDim();
  using namespace qc::abi;
  graph.rmsNorm = RmsNormFn(need(rmsNormKey(c.dim)));
  graph.ropeTable = RopeTableFn(need(ropeTableKey(c.headDim())));
  graph.ropeQ = RopeFn(need(ropeKey(c.dim, c.headDim(), c.ropeNeox)));
  graph.ropeK = RopeFn(need(ropeKey(c.kvDim(), c.headDim(), c.ropeNeox)));
  graph.kvStore = KVStoreFn(need(kvStoreKey(c.kvDim(), type)));
  graph.attention = AttentionFn(need(attentionKey(c.heads, c.kvHeads, c.headDim(), type)));
  graph.swiglu = ElementwiseFn(need(swigluKey()));
  graph.add = ElementwiseFn(need(addKey()));
}

void qc_model::norm(const float *x, const float *w, float *y, int64_t T) {
  int64_t D = cfg.dim;
  pool->parallelFor(T, 4, [&](int64_t t0, int64_t t1) {
    Floats in = view(const_cast<float *>(x) + t0 * D, (t1 - t0) * D);
    Floats weight = view(const_cast<float *>(w), D);
    Floats out = view(y + t0 * D, (t1 - t0) * D);
    graph.rmsNorm(&in, &weight, &out, t1 - t0);
  });
}

void qc_model::elementwise(ElementwiseFn fn, float *out, const float *in,
                           int64_t n) {
  pool->parallelFor(n, 8192, [&](int64_t b, int64_t e) {
    Floats o = view(out + b, e - b);
    Floats i = view(const_cast<float *>(in) + b, e - b);
    fn(&o, &i);
  });
}

void qc_model::observe(std::initializer_list<Product> products,
                       const float *x, int64_t T) {
  if (!observer)
    return;
  std::vector<const char *> names;
  for (const Product &p : products)
    names.push_back(p.L->tensor->name.c_str());
  observer(observerUser, names.data(), int(names.size()), x, T,
           products.begin()->L->cols);
}

void qc_model::project(std::initializer_list<Product> products,
                       const float *x, int64_t T) {
  int64_t K = products.begin()->L->cols;
  MemRef<const float> in = view(x, T * K);
  observe(products, x, T);
  // x quantized once per activation block the products' kernels take.
  for (int64_t block : {32, 256}) {
    auto quantized = std::find_if(products.begin(), products.end(),
                                  [&](const Product &p) { return p.L->q8Block == block; });
    if (quantized == products.end())
      continue;
    Q8Activations &q = q8[block == 256];
    q.resize(T, K, block);
    pool->parallelFor(T, 4, [&](int64_t t0, int64_t t1) {
      MemRef<const float> a = in;
      MemRef<int8_t> codes = view(q.codes.data(), int64_t(q.codes.size()));
      MemRef<float> scales = view(q.scales.data(), int64_t(q.scales.size()));
      MemRef<int32_t> sums = view(q.sums.data(), int64_t(q.sums.size()));
      quantized->L->quantize(&a, &codes, &scales, &sums, t0, t1);
    });
  }
  // Rows in multiples of 16 (a cache line of f32 results): a chunk's
  // weights fit in L2 (kernels stream them once per tile of tokens), and
  // every thread gets several chunks of each product.
  chunks.clear();
  for (const Product &p : products) {
    const Linear &L = *p.L;
    int64_t rowBytes = int64_t(L.tensor->size()) / L.rows;
    int64_t grain = std::min(L.rows / (4 * pool->size()),
                             (int64_t(256) << 10) / std::max<int64_t>(1, rowBytes));
    grain = std::max<int64_t>(16, grain / 16 * 16);
    for (int64_t r = 0; r < L.rows; r += grain)
      chunks.push_back({&p, r, std::min(L.rows, r + grain)});
  }
  pool->parallelFor(int64_t(chunks.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const Linear &L = *chunks[i].product->L;
      MemRef<const uint8_t> w = view(L.tensor->data(), int64_t(L.tensor->size()));
      MemRef<float> out = view(chunks[i].product->y, T * L.rows);
      if (L.q8Block) {
        const Q8Activations &q = q8[L.q8Block == 256];
        MemRef<const int8_t> a = view(q.codes.data(), int64_t(q.codes.size()));
        MemRef<const float> d = view(q.scales.data(), int64_t(q.scales.size()));
        MemRef<const int32_t> s = view(q.sums.data(), int64_t(q.sums.size()));
        reinterpret_cast<KernelQ8>(L.kernel)(&w, &a, &d, &s, &out, T,
                                             chunks[i].r0, chunks[i].r1);
      } else {
        MemRef<const float> a = in;
        reinterpret_cast<KernelF32>(L.kernel)(&w, &a, &out, T, chunks[i].r0,
                                              chunks[i].r1);
      }
    }
  });
}

void qc_model::forward(const int32_t *tokens, int64_t T, int64_t pos,
                       bool all, float *logits) {
  const int64_t D = cfg.dim, F = cfg.hidden, KV = cfg.kvDim();
  const int64_t hd = cfg.headDim();
  if (T <= 0 || pos < 0 || pos + T > cfg.context)
    throw FormatError("positions " + std::to_string(pos) + ".." +
                      std::to_string(pos + T - 1) +
                      " exceed the context of " + std::to_string(cfg.context));
  // Buffers live across calls: fresh pages for every prompt cost more than
  // the arithmetic on them.
  std::vector<float> &x = scratch.x, &xn = scratch.xn, &q = scratch.q,
                     &k = scratch.k, &v = scratch.v, &att = scratch.att,
                     &o = scratch.o, &g = scratch.g, &u = scratch.u;
  for (auto [buffer, n] : {std::pair{&x, D}, {&xn, D}, {&q, D}, {&k, KV},
                           {&v, KV}, {&att, D}, {&o, D}, {&g, F}, {&u, F}})
    buffer->resize(T * n);
  int64_t embRow = embeddingCodec->rowBytes(D),
          embHeader = embeddingCodec->headerBytes();
  std::vector<uint8_t> row(embHeader + embRow);
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= cfg.vocab)
      throw FormatError("token id " + std::to_string(tokens[t]) +
                        " is outside the vocabulary");
    // Only the looked-up row is decoded (with the tensor header, if any).
    const uint8_t *src = embedding->data();
    std::memcpy(row.data(), src, embHeader);
    std::memcpy(row.data() + embHeader, src + embHeader + tokens[t] * embRow,
                embRow);
    embeddingCodec->dequantize(row.data(), 1, D, &x[t * D]);
  }
  // The rotations of the positions this call covers, shared by every layer
  // and head.
  std::vector<float> &rot = scratch.rot;
  rot.resize(T * hd);
  Floats rotView = view(rot.data(), T * hd);
  graph.ropeTable(&rotView, pos, T);
  Floats qv = view(q.data(), T * D), kv = view(k.data(), T * KV),
         vv = view(v.data(), T * KV), attv = view(att.data(), T * D);
  for (Layer &L : layers) {
    norm(x.data(), L.attnNorm, xn.data(), T);
    project({{&L.q, q.data()}, {&L.k, k.data()}, {&L.v, v.data()}}, xn.data(),
            T);
    if (L.bq)
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t i = 0; i < D; ++i) q[t * D + i] += L.bq[i];
        for (int64_t i = 0; i < KV; ++i) k[t * KV + i] += L.bk[i];
        for (int64_t i = 0; i < KV; ++i) v[t * KV + i] += L.bv[i];
      }
    graph.ropeQ(&qv, &rotView, T);
    graph.ropeK(&kv, &rotView, T);
    int64_t cacheSize = int64_t(L.keys.size()) / graph.kvElementBytes;
    MemRef<void> keys = view<void>(L.keys.data(), cacheSize),
                 values = view<void>(L.values.data(), cacheSize);
    graph.kvStore(&kv, &vv, &keys, &values, pos, T);
    // Attention over (token, head) rows, about 16 jobs per thread: each
    // job allocates its row of scores once.
    int64_t rows = T * cfg.heads;
    pool->parallelFor(rows, std::max<int64_t>(1, rows / (16 * pool->size())),
                      [&](int64_t b, int64_t e) {
      std::vector<float> scores(pos + T);
      Floats s = view(scores.data(), pos + T), qc = qv, out = attv;
      MemRef<void> kc = keys, vc = values;
      graph.attention(&qc, &kc, &vc, &out, &s, pos, b, e);
    });
    project({{&L.o, o.data()}}, att.data(), T);
    elementwise(graph.add, x.data(), o.data(), T * D);
    norm(x.data(), L.ffnNorm, xn.data(), T);
    project({{&L.gate, g.data()}, {&L.up, u.data()}}, xn.data(), T);
    elementwise(graph.swiglu, g.data(), u.data(), T * F);
    project({{&L.down, o.data()}}, g.data(), T);
    elementwise(graph.add, x.data(), o.data(), T * D);
    if (releaseBlocks)
      for (const Linear *w : {&L.q, &L.k, &L.v, &L.o, &L.gate, &L.up, &L.down})
        qc::model::releasePages(*w->tensor);
  }
  int64_t first = all ? 0 : T - 1, n = T - first;
  norm(&x[first * D], outputNorm, xn.data(), n);
  if (logits)
    project({{&output, logits}}, xn.data(), n);
  else // calibration: the head's input, not its vocab-wide product
    observe({{&output, nullptr}}, xn.data(), n);
  if (releaseBlocks)
    for (const qc::model::Tensor *w : {embedding, output.tensor})
      qc::model::releasePages(*w);
}

extern "C" {

int qc_runtime_abi_version(void) { return QC_RUNTIME_ABI_VERSION; }

qc_model *qc_model_load(const qc_kernel_table *table, const char *weights,
                        const qc_options *options, char *error,
                        size_t errorSize) {
  auto fail = [&](const std::string &why) -> qc_model * {
    if (error && errorSize)
      std::snprintf(error, errorSize, "%s", why.c_str());
    return nullptr;
  };
  if (!table)
    return fail("no kernel table");
  if (table->abi_version != QC_RUNTIME_ABI_VERSION)
    return fail("the kernels were compiled for runtime ABI " +
                std::to_string(table->abi_version) + ", this runtime is " +
                std::to_string(QC_RUNTIME_ABI_VERSION) + " (recompile)");
  if (table->features) {
    std::string missing = missingFeatures(table->features);
    if (!missing.empty())
      return fail("this CPU lacks " + missing + ", which the compiled "
                  "kernels use (recompile with quant-compile --mcpu=<cpu> "
                  "--target=generic for this machine)");
  }
  if (!weights)
    weights = table->weights;
  if (!weights || !*weights)
    return fail("no weights file given");
  try {
    auto m = std::make_unique<qc_model>();
    m->model = qc::model::readModel(weights, "", /*mapWeights=*/true);
    m->model.validate();
    m->cfg = m->model.config;
    qc_options defaults{};
    const qc_options &opt = options ? *options : defaults;
    if (!opt.mmap)
      m->weightCopy.take(m->model);
    m->releaseBlocks = opt.mmap == 2;
    if (opt.context > 0) // may exceed the trained context, as llama.cpp's -c
      m->cfg.context = opt.context;
    // More threads than the machine runs at once only take turns.
    int hardware = int(std::max(1u, std::thread::hardware_concurrency()));
    int threads = opt.threads > 0 ? opt.threads : hardware;
    if (threads > hardware) {
      std::fprintf(stderr, "qc: note: %d threads asked for, this machine runs %d at "
                           "once: using %d\n", threads, hardware, hardware);
      threads = hardware;
    }
    m->pool = std::make_unique<qc::runtime::ThreadPool>(threads);
    m->tokenizer = std::make_unique<qc::Tokenizer>(m->model.vocab);

    std::unordered_map<std::string, void *> kernels;
    for (int64_t i = 0; i < table->count; ++i)
      kernels[table->kernels[i].key] = table->kernels[i].fn;
    const auto &c = m->cfg;
    m->embedding = &m->model.tensor("token_embd.weight");
    m->embeddingCodec = qc::formats::makeCodec(m->embedding->format);
    if (!m->embeddingCodec)
      throw FormatError("token_embd.weight has unknown format " +
                        m->embedding->format);
    m->outputNorm = m->floats("output_norm.weight", c.dim);
    m->output = m->bind(kernels, c.tiedOutput ? "token_embd.weight"
                                              : "output.weight");
    m->bindGraph(kernels);
    for (int64_t l = 0; l < c.layers; ++l) {
      std::string p = "blk." + std::to_string(l) + ".";
      qc_model::Layer L;
      L.attnNorm = m->floats(p + "attn_norm.weight", c.dim);
      L.ffnNorm = m->floats(p + "ffn_norm.weight", c.dim);
      if (c.qkvBias) {
        L.bq = m->floats(p + "attn_q.bias", c.dim);
        L.bk = m->floats(p + "attn_k.bias", c.kvDim());
        L.bv = m->floats(p + "attn_v.bias", c.kvDim());
      }
      L.q = m->bind(kernels, p + "attn_q.weight");
      L.k = m->bind(kernels, p + "attn_k.weight");
      L.v = m->bind(kernels, p + "attn_v.weight");
      L.o = m->bind(kernels, p + "attn_output.weight");
      L.gate = m->bind(kernels, p + "ffn_gate.weight");
      L.up = m->bind(kernels, p + "ffn_up.weight");
      L.down = m->bind(kernels, p + "ffn_down.weight");
      size_t cache = size_t(c.context) * size_t(m->graph.kvRowElements) *
                     size_t(m->graph.kvElementBytes);
      L.keys.resize(cache);
      L.values.resize(cache);
      m->layers.push_back(std::move(L));
    }
    return m.release();
  } catch (const std::exception &e) {
    return fail(std::string(weights) + ": " + e.what());
  }
}

void qc_model_free(qc_model *model) { delete model; }
int64_t qc_model_vocab(const qc_model *m) { return m->cfg.vocab; }
int64_t qc_model_context(const qc_model *m) { return m->cfg.context; }
int64_t qc_model_trained_context(const qc_model *m) { return m->model.config.context; }
int32_t qc_model_bos(const qc_model *m) { return m->model.vocab.bos; }
int32_t qc_model_eos(const qc_model *m) { return m->model.vocab.eos; }
const char *qc_model_error(const qc_model *m) { return m->error.c_str(); }

void qc_model_observe_inputs(qc_model *m, qc_input_observer observer,
                             void *user) {
  m->observer = observer;
  m->observerUser = user;
}

int qc_model_eval(qc_model *m, const int32_t *tokens, int64_t count,
                  int64_t pos, int allLogits, float *logits) {
  try {
    m->forward(tokens, count, pos, allLogits != 0, logits);
    return 0;
  } catch (const std::exception &e) {
    m->error = e.what();
    return -1;
  }
}

int64_t qc_tokenize(const qc_model *m, const char *text, int addBos,
                    int32_t *ids, int64_t capacity) {
  std::vector<int32_t> out = m->tokenizer->encode(text, addBos != 0);
  std::copy_n(out.begin(), std::min<int64_t>(capacity, int64_t(out.size())),
              ids);
  return int64_t(out.size());
}

const char *qc_token_text(qc_model *m, int32_t id) {
  m->piece = id >= 0 && id < m->cfg.vocab ? m->tokenizer->decode(id) : "";
  return m->piece.c_str();
}

} // extern "C"
