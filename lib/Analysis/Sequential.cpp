//===- Sequential.cpp - GPTQ block by block -------------------------------===//
#include "qc/Analysis/Sequential.h"
#include "qc/Analysis/Quantize.h"
#include "qc/Reference/Reference.h"
#include "qc/Support/Memory.h"
#include "qc/Support/Parallel.h"
#include "qc/Support/Progress.h"

#include <cblas.h>
#include <thread>

// OpenBLAS's (linked by name, whichever cblas.h the system's alternatives
// pick).
extern "C" void openblas_set_num_threads(int threads);

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sys/stat.h>

namespace qc {

namespace {

/// X^T X of one product input, accumulated window by window (BLAS ssyrk
/// into the upper triangle).
struct Gram {
  int64_t cols = 0, rows = 0;
  std::vector<float> xtx;
  explicit Gram(int64_t cols) : cols(cols), xtx(size_t(cols * cols), 0.0f) {}
  void add(const float *x, int64_t n) {
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, int(cols), int(n), 1.0f,
                x, int(cols), 1.0f, xtx.data(), int(cols));
    rows += n;
  }
  /// The full symmetric matrix (idempotent).
  void mirror() {
    for (int64_t i = 0; i < cols; ++i)
      for (int64_t j = i + 1; j < cols; ++j)
        xtx[j * cols + i] = xtx[i * cols + j];
  }
};

/// The four product inputs of a block.
struct BlockGrams {
  Gram attnIn, attnOut, ffnIn, ffnDown;
  explicit BlockGrams(const model::Config &c)
      : attnIn(c.dim), attnOut(c.dim), ffnIn(c.dim), ffnDown(c.hidden) {}
};

const char *const kBlockWeights[] = {"attn_q",   "attn_k",  "attn_v",
                                     "attn_output", "ffn_gate", "ffn_up",
                                     "ffn_down"};

/// One transformer block's parameters in f32.
struct Block {
  std::string prefix; // "blk.N."
  std::vector<float> attnNorm, ffnNorm, bq, bk, bv;
  std::map<std::string, std::vector<float>> w; // by kBlockWeights name

  Block(const model::Model &m, int64_t l) : prefix("blk." + std::to_string(l) + ".") {
    attnNorm = m.tensor(prefix + "attn_norm.weight").toFloats();
    ffnNorm = m.tensor(prefix + "ffn_norm.weight").toFloats();
    if (m.config.qkvBias) {
      bq = m.tensor(prefix + "attn_q.bias").toFloats();
      bk = m.tensor(prefix + "attn_k.bias").toFloats();
      bv = m.tensor(prefix + "attn_v.bias").toFloats();
    }
    for (const char *name : kBlockWeights)
      w[name] = m.tensor(prefix + name + ".weight").toFloats();
  }
  Gram &gramOf(BlockGrams &g, const std::string &name) const {
    if (name == "attn_output")
      return g.attnOut;
    if (name == "ffn_gate" || name == "ffn_up")
      return g.ffnIn;
    if (name == "ffn_down")
      return g.ffnDown;
    return g.attnIn;
  }
};

/// y[T x N] = x[T x K] . w[N x K]^T
void project(const float *x, const std::vector<float> &w, float *y, int64_t T,
             int64_t N, int64_t K) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(T), int(N), int(K),
              1.0f, x, int(K), w.data(), int(K), 0.0f, y, int(N));
}

/// Runs one block over one window of T tokens at positions 0..T-1 (BLAS
/// products, attention per head), updating the hidden states `x` in place
/// and adding the product inputs to `grams` when given.
class BlockRunner {
public:
  BlockRunner(const model::Config &c, int64_t T)
      : c(c), T(T), xn(T * c.dim), q(T * c.dim), k(T * c.kvDim()),
        v(T * c.kvDim()), att(T * c.dim), o(T * c.dim), g(T * c.hidden),
        u(T * c.hidden), scores(T * T) {}

  void run(const Block &b, float *x, BlockGrams *grams) {
    const int64_t D = c.dim, F = c.hidden, KV = c.kvDim(), hd = c.headDim();
    for (int64_t t = 0; t < T; ++t)
      rmsNorm(&x[t * D], b.attnNorm.data(), &xn[t * D], D, c.normEps);
    if (grams)
      grams->attnIn.add(xn.data(), T);
    project(xn.data(), b.w.at("attn_q"), q.data(), T, D, D);
    project(xn.data(), b.w.at("attn_k"), k.data(), T, KV, D);
    project(xn.data(), b.w.at("attn_v"), v.data(), T, KV, D);
    parallelRanges(T, 16, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        if (c.qkvBias) {
          for (int64_t i = 0; i < D; ++i) q[t * D + i] += b.bq[i];
          for (int64_t i = 0; i < KV; ++i) k[t * KV + i] += b.bk[i];
          for (int64_t i = 0; i < KV; ++i) v[t * KV + i] += b.bv[i];
        }
        rope(&q[t * D], D, hd, t, c);
        rope(&k[t * KV], KV, hd, t, c);
      }
    });
    float scale = 1.0f / std::sqrt(float(hd));
    int64_t group = c.heads / c.kvHeads;
    for (int64_t h = 0; h < c.heads; ++h) {
      const float *kh = &k[(h / group) * hd], *vh = &v[(h / group) * hd];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(T), int(T),
                  int(hd), scale, &q[h * hd], int(D), kh, int(KV), 0.0f,
                  scores.data(), int(T));
      // Causal softmax per row (the reference's: float exponentials, a
      // double sum).
      parallelRanges(T, 32, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          float *s = &scores[t * T];
          float mx = -INFINITY;
          for (int64_t j = 0; j <= t; ++j)
            mx = std::max(mx, s[j]);
          double sum = 0;
          for (int64_t j = 0; j <= t; ++j)
            sum += s[j] = std::exp(s[j] - mx);
          for (int64_t j = 0; j <= t; ++j)
            s[j] = float(s[j] / sum);
          std::fill(s + t + 1, s + T, 0.0f);
        }
      });
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(T), int(hd),
                  int(T), 1.0f, scores.data(), int(T), vh, int(KV), 0.0f,
                  &att[h * hd], int(D));
    }
    if (grams)
      grams->attnOut.add(att.data(), T);
    project(att.data(), b.w.at("attn_output"), o.data(), T, D, D);
    for (int64_t i = 0; i < T * D; ++i)
      x[i] += o[i];
    for (int64_t t = 0; t < T; ++t)
      rmsNorm(&x[t * D], b.ffnNorm.data(), &xn[t * D], D, c.normEps);
    if (grams)
      grams->ffnIn.add(xn.data(), T);
    project(xn.data(), b.w.at("ffn_gate"), g.data(), T, F, D);
    project(xn.data(), b.w.at("ffn_up"), u.data(), T, F, D);
    for (int64_t i = 0; i < T * F; ++i)
      g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
    if (grams)
      grams->ffnDown.add(g.data(), T);
    project(g.data(), b.w.at("ffn_down"), o.data(), T, D, F);
    for (int64_t i = 0; i < T * D; ++i)
      x[i] += o[i];
  }

private:
  const model::Config &c;
  int64_t T;
  std::vector<float> xn, q, k, v, att, o, g, u, scores;
};

/// FNV-1a, 64 bits.
uint64_t fingerprint(const std::string &bytes, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : bytes)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

/// What the state of a run depends on: the model (its path, size and
/// modification time), the text, the options and the formats.
uint64_t runFingerprint(const model::Model &m, const std::string &text,
                        const std::map<std::string, std::string> &formatOf,
                        const SequentialOptions &o) {
  std::string key = m.source;
  struct stat st;
  if (::stat(m.source.c_str(), &st) == 0)
    key += "|" + std::to_string(st.st_size) + "|" +
           std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
  key += "|" + std::to_string(o.windows.ctx) + "|" +
         std::to_string(o.windows.chunks) + "|" +
         std::to_string(o.floatInputs) + "|" + std::to_string(o.gptq.damp) +
         "|" + std::to_string(o.gptq.actOrder) + "|" +
         std::to_string(o.gptq.batch);
  for (const auto &[name, format] : formatOf)
    key += "|" + name + "=" + format;
  return fingerprint(text, fingerprint(key));
}

const char kStateMagic[8] = {'Q', 'C', 'G', 'P', 'T', 'Q', 'S', '1'};

/// The hidden states after block `next - 1`, written to a temporary name
/// and renamed.
void writeState(const std::string &path, uint64_t print, int64_t next,
                const std::vector<float> &x) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    uint64_t count = x.size();
    f.write(kStateMagic, 8);
    f.write(reinterpret_cast<const char *>(&print), 8);
    f.write(reinterpret_cast<const char *>(&next), 8);
    f.write(reinterpret_cast<const char *>(&count), 8);
    f.write(reinterpret_cast<const char *>(x.data()),
            std::streamsize(count * sizeof(float)));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      throw model::FormatError(path + ": cannot write the GPTQ state (" +
                               std::to_string(count * sizeof(float)) +
                               " bytes of hidden states)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw model::FormatError(path + ": cannot rename the GPTQ state into place");
  }
}

/// The block to start at from a state file that matches `print` and the
/// size of `x` (filled from it); 0 when there is none or it does not match.
int64_t readState(const std::string &path, uint64_t print,
                  std::vector<float> &x) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return 0;
  char magic[8];
  uint64_t filePrint = 0, count = 0;
  int64_t next = 0;
  f.read(magic, 8);
  f.read(reinterpret_cast<char *>(&filePrint), 8);
  f.read(reinterpret_cast<char *>(&next), 8);
  f.read(reinterpret_cast<char *>(&count), 8);
  if (!f || std::memcmp(magic, kStateMagic, 8) != 0 || filePrint != print ||
      count != x.size() || next <= 0) {
    std::fprintf(stderr, "%s: another run's state (model, text, options or "
                         "formats differ): starting over\n", path.c_str());
    return 0;
  }
  std::vector<float> saved(x.size());
  f.read(reinterpret_cast<char *>(saved.data()),
         std::streamsize(count * sizeof(float)));
  if (!f) {
    std::fprintf(stderr, "%s: truncated state: starting over\n", path.c_str());
    return 0;
  }
  x = std::move(saved);
  return next;
}

} // namespace

void quantizeSequential(const model::Model &m, const std::string &text,
                        const std::map<std::string, std::string> &formatOf,
                        const SequentialOptions &o, const TensorSink &sink,
                        const HessianObserver &observe) {
  const model::Config &c = m.config;
  const int64_t D = c.dim;
  std::vector<std::vector<int32_t>> windows =
      calibrationWindows(m, text, o.windows);
  const int64_t W = int64_t(windows.size()), T = o.windows.ctx;
  std::set<std::string> pending;
  for (const auto &[name, format] : formatOf) {
    quantizedSpec(m.tensor(name), format); // throws when it cannot hold it
    pending.insert(name);
  }
  // What the run holds at once: the hidden states, one block in f32 with
  // its four X^T X and a window's activations, and GPTQ's two n x n
  // factors of the widest input. Refuse before allocating rather than be
  // killed for memory halfway.
  {
    double floats = double(W) * T * D;
    double block = 0;
    for (const char *name : kBlockWeights)
      block += double(m.tensor("blk.0." + std::string(name) + ".weight")
                          .numElements());
    int64_t widest = std::max(D, c.hidden);
    double grams = 3.0 * D * D + double(c.hidden) * c.hidden;
    double window = double(T) * (5 * D + 2 * c.kvDim() + 2 * c.hidden + T);
    double need = 4 * (floats + block + grams + window +
                       2.0 * double(widest) * widest);
    requireMemory(need,
                  "GPTQ block by block (hidden states of " +
                      std::to_string(W) + " windows x " + std::to_string(T) +
                      " tokens: " + byteSize(4 * floats) +
                      "; one block in f32: " + byteSize(4 * block) + ")",
                  "use fewer windows (chunks=) or a shorter ctx");
  }
  std::vector<uint8_t> packed;
  // Quantizes `name` (if it has a format) with the inputs' X^T X; returns
  // the packed bytes' dequantized values in `values` when asked.
  auto quantize = [&](const std::string &name, Gram *gram,
                      std::vector<float> *values) {
    auto f = formatOf.find(name);
    if (f == formatOf.end())
      return;
    const model::Tensor &t = m.tensor(name);
    packed.resize(quantizedSpec(t, f->second).bytes);
    if (!gram) {
      quantizeTensorInto(t, f->second, QuantMethod::RTN, nullptr, nullptr,
                         packed.data());
    } else {
      gram->mirror();
      if (observe)
        observe(name, gram->xtx.data(), gram->cols, gram->rows);
      std::vector<float> importance(gram->cols);
      for (int64_t i = 0; i < gram->cols; ++i)
        importance[i] = gram->xtx[i * gram->cols + i] / float(gram->rows);
      if (formats::makeCodec(f->second)->supportsGPTQ()) {
        GPTQSolver solver(gram->xtx.data(), gram->cols, o.gptq);
        quantizeTensorInto(t, f->second, QuantMethod::GPTQ, importance.data(),
                           nullptr, packed.data(), &solver);
      } else {
        quantizeTensorInto(t, f->second, QuantMethod::Imatrix,
                           importance.data(), nullptr, packed.data());
      }
    }
    if (values)
      formats::makeCodec(f->second)->dequantize(packed.data(), t.rows(),
                                                t.cols(), values->data());
    sink.write(name, packed.data(), packed.size());
    model::releasePages(t);
    pending.erase(name);
  };

  // The hidden states of every window, from the embedding rows.
  std::vector<float> x(size_t(W * T * D));
  {
    const model::Tensor &emb = m.tensor("token_embd.weight");
    auto codec = formats::makeCodec(emb.format);
    if (!codec)
      throw model::FormatError("token_embd.weight: no codec for format '" +
                               emb.format + "'");
    int64_t row = codec->rowBytes(D);
    for (int64_t w = 0; w < W; ++w)
      for (int64_t t = 0; t < T; ++t) {
        int32_t id = windows[w][t];
        if (id < 0 || id >= c.vocab)
          throw model::FormatError("token id " + std::to_string(id) +
                                   " is outside the vocabulary");
        codec->dequantize(emb.data() + codec->headerBytes() + id * row, 1, D,
                          &x[(w * T + t) * D]);
      }
  }
  // A state left by an interrupted run of the same work: its hidden states,
  // and the tensors of its finished blocks are in the archive already.
  uint64_t print = runFingerprint(m, text, formatOf, o);
  int64_t first = o.statePath.empty() ? 0 : readState(o.statePath, print, x);
  first = std::min(first, c.layers);
  if (first > 0)
    std::fprintf(stderr, "gptq: resuming after block %lld of %lld (%s)\n",
                 (long long)first, (long long)c.layers, o.statePath.c_str());
  for (int64_t l = 0; l < first; ++l)
    for (const char *name : kBlockWeights) {
      std::string full = "blk." + std::to_string(l) + "." + name + ".weight";
      if (pending.erase(full))
        sink.keep(full);
    }
  openblas_set_num_threads(int(
      o.threads > 0 ? o.threads
      : D >= 512    ? std::max(1u, std::thread::hardware_concurrency())
                    : 1));
  BlockRunner runner(c, T);
  Progress progress("gptq", double(c.layers + 1));
  // Where the time goes, for projections to other sizes.
  auto seconds = [](auto a, auto b) {
    return std::chrono::duration<double>(b - a).count();
  };
  double forwardSeconds = 0, gptqSeconds = 0;
  std::vector<float> window(size_t(T * D));
  for (int64_t l = first; l < c.layers; ++l) {
    progress.update(double(l), "block " + std::to_string(l + 1) + "/" +
                                   std::to_string(c.layers));
    auto start = std::chrono::steady_clock::now();
    Block block(m, l);
    BlockGrams grams(c);
    // The float pass: X^T X of every product input; with float inputs its
    // outputs are the next block's inputs.
    for (int64_t w = 0; w < W; ++w) {
      float *xw = &x[w * T * D];
      if (o.floatInputs) {
        runner.run(block, xw, &grams);
      } else {
        std::copy_n(xw, T * D, window.data());
        runner.run(block, window.data(), &grams);
      }
    }
    auto passed = std::chrono::steady_clock::now();
    for (const char *name : kBlockWeights)
      quantize(block.prefix + name + ".weight", &block.gramOf(grams, name),
               o.floatInputs ? nullptr : &block.w[name]);
    auto quantized = std::chrono::steady_clock::now();
    if (!o.floatInputs) // the next block sees this one quantized
      for (int64_t w = 0; w < W; ++w)
        runner.run(block, &x[w * T * D], nullptr);
    forwardSeconds += seconds(start, passed) +
                      seconds(quantized, std::chrono::steady_clock::now());
    gptqSeconds += seconds(passed, quantized);
    if (!o.statePath.empty())
      writeState(o.statePath, print, l + 1, x);
    if (l == o.stopAfterBlock)
      throw SequentialInterrupted("stopped after block " + std::to_string(l) +
                                  " as asked; " + o.statePath +
                                  " holds the state to resume from");
  }
  // The head reads the final norm's output.
  progress.update(double(c.layers), "output");
  auto headStart = std::chrono::steady_clock::now();
  std::vector<float> outputNorm = m.tensor("output_norm.weight").toFloats();
  Gram head(D);
  for (int64_t w = 0; w < W; ++w) {
    for (int64_t t = 0; t < T; ++t) {
      float *row = &x[(w * T + t) * D];
      rmsNorm(row, outputNorm.data(), &window[t * D], D, c.normEps);
    }
    head.add(window.data(), T);
  }
  quantize(c.tiedOutput ? "token_embd.weight" : "output.weight", &head,
           nullptr);
  // What no product reads: an untied embedding is a lookup table.
  for (std::string name : std::set<std::string>(pending))
    quantize(name, nullptr, nullptr);
  progress.update(double(c.layers + 1), "done");
  if (first < c.layers)
    std::fprintf(stderr,
                 "gptq: %lld blocks x %lld windows: block passes %.1f s, "
                 "GPTQ %.1f s (%.2f s a block), head and the rest %.1f s\n",
                 (long long)(c.layers - first), (long long)W, forwardSeconds,
                 gptqSeconds, gptqSeconds / double(c.layers - first),
                 seconds(headStart, std::chrono::steady_clock::now()));
}

} // namespace qc
