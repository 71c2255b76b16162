//===- Reference.cpp - f32 transformer forward pass -----------------------===//
#include "qc/Reference/Reference.h"

#include "qc/Support/Memory.h"

#include <algorithm>
#include <cmath>

namespace qc {

namespace {

std::vector<float> floats(const model::Model &m, const std::string &name) {
  return m.tensor(name).toFloats();
}

/// y[t, n] = sum_k x[t, k] * w[n, k]; eight partial sums per row so the
/// compiler vectorises without reassociating freely.
void matmul(const float *x, const float *w, float *y, int64_t T, int64_t N,
            int64_t K) {
  for (int64_t t = 0; t < T; ++t)
    for (int64_t n = 0; n < N; ++n) {
      const float *a = x + t * K, *b = w + n * K;
      float acc[8] = {};
      int64_t k = 0;
      for (; k + 8 <= K; k += 8)
        for (int j = 0; j < 8; ++j)
          acc[j] += a[k + j] * b[k + j];
      float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      for (; k < K; ++k)
        s += a[k] * b[k];
      y[t * N + n] = s;
    }
}

} // namespace

void rmsNorm(const float *x, const float *w, float *y, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i)
    ss += double(x[i]) * x[i];
  float scale = 1.0f / std::sqrt(float(ss / double(n)) + eps);
  for (int64_t i = 0; i < n; ++i)
    y[i] = x[i] * scale * w[i];
}

void rope(float *v, int64_t width, int64_t headDim, int64_t pos,
          const model::Config &c) {
  for (int64_t h = 0; h < width; h += headDim)
    for (int64_t i = 0; i < headDim / 2; ++i) {
      float freq = std::pow(c.ropeTheta, -2.0f * float(i) / float(headDim));
      float angle = float(pos) * c.ropeFreqScale * freq;
      float cs = std::cos(angle), sn = std::sin(angle);
      int64_t a = c.ropeNeox ? h + i : h + 2 * i;
      int64_t b = c.ropeNeox ? h + i + headDim / 2 : h + 2 * i + 1;
      float x0 = v[a], x1 = v[b];
      v[a] = x0 * cs - x1 * sn;
      v[b] = x0 * sn + x1 * cs;
    }
}

FloatModel::FloatModel(const model::Model &m, int64_t context)
    : cfg(m.config) {
  if (context > 0)
    cfg.context = context;
  double floatCount = 2.0 * double(cfg.layers) * cfg.context * cfg.kvDim();
  for (const auto &[name, t] : m.tensors)
    floatCount += double(t.numElements());
  if (cfg.tiedOutput) // the head is a second copy of the embedding
    floatCount += double(m.tensor("token_embd.weight").numElements());
  requireMemory(4 * floatCount,
                "the f32 reference of this model (every weight dequantized, "
                "and a KV cache of " +
                    std::to_string(cfg.context) + " positions)",
                "run the model quant-compile built instead (quant-run --compiled "
                "LIB; in the pipeline compiled=LIB kl=false)");
  embedding = floats(m, "token_embd.weight");
  outputNorm = floats(m, "output_norm.weight");
  output = cfg.tiedOutput ? embedding : floats(m, "output.weight");
  outputName = cfg.tiedOutput ? "token_embd.weight" : "output.weight";
  for (int64_t l = 0; l < cfg.layers; ++l) {
    std::string p = "blk." + std::to_string(l) + ".";
    Layer L;
    L.prefix = p;
    L.attnNorm = floats(m, p + "attn_norm.weight");
    L.wq = floats(m, p + "attn_q.weight");
    L.wk = floats(m, p + "attn_k.weight");
    L.wv = floats(m, p + "attn_v.weight");
    L.wo = floats(m, p + "attn_output.weight");
    if (cfg.qkvBias) {
      L.bq = floats(m, p + "attn_q.bias");
      L.bk = floats(m, p + "attn_k.bias");
      L.bv = floats(m, p + "attn_v.bias");
    }
    L.ffnNorm = floats(m, p + "ffn_norm.weight");
    L.gate = floats(m, p + "ffn_gate.weight");
    L.up = floats(m, p + "ffn_up.weight");
    L.down = floats(m, p + "ffn_down.weight");
    L.keys.resize(cfg.context * cfg.kvDim());
    L.values.resize(cfg.context * cfg.kvDim());
    layers.push_back(std::move(L));
  }
}

std::vector<float> &FloatModel::weight(const std::string &name) {
  if (name == "token_embd.weight")
    return embedding;
  if (name == "output.weight" && !cfg.tiedOutput)
    return output;
  if (name == "output_norm.weight")
    return outputNorm;
  for (Layer &L : layers) {
    if (name.compare(0, L.prefix.size(), L.prefix) != 0)
      continue;
    std::string rest = name.substr(L.prefix.size());
    std::pair<const char *, std::vector<float> *> slots[] = {
        {"attn_norm.weight", &L.attnNorm}, {"attn_q.weight", &L.wq},
        {"attn_k.weight", &L.wk},          {"attn_v.weight", &L.wv},
        {"attn_output.weight", &L.wo},     {"attn_q.bias", &L.bq},
        {"attn_k.bias", &L.bk},            {"attn_v.bias", &L.bv},
        {"ffn_norm.weight", &L.ffnNorm},   {"ffn_gate.weight", &L.gate},
        {"ffn_up.weight", &L.up},          {"ffn_down.weight", &L.down}};
    for (auto [slotName, slot] : slots)
      if (rest == slotName)
        return *slot;
  }
  throw model::FormatError("the model has no weight '" + name + "'");
}

Divergence divergence(const float *p, const float *q, int64_t positions,
                      int64_t vocab) {
  Divergence d;
  for (int64_t t = 0; t < positions; ++t) {
    const float *a = p + t * vocab, *b = q + t * vocab;
    float ma = *std::max_element(a, a + vocab);
    float mb = *std::max_element(b, b + vocab);
    double za = 0, zb = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      za += std::exp(double(a[i]) - ma);
      zb += std::exp(double(b[i]) - mb);
    }
    double kl = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      double pa = std::exp(double(a[i]) - ma) / za;
      if (pa > 0)
        kl += pa * ((double(a[i]) - ma - std::log(za)) -
                    (double(b[i]) - mb - std::log(zb)));
    }
    d.kl += std::max(0.0, kl);
    double dot = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < vocab; ++i) {
      d.maxAbs = std::max(d.maxAbs, std::fabs(double(a[i]) - double(b[i])));
      dot += double(a[i]) * b[i];
      na += double(a[i]) * a[i];
      nb += double(b[i]) * b[i];
    }
    if (na > 0 && nb > 0)
      d.minCosine = std::min(d.minCosine, dot / std::sqrt(na * nb));
    d.top1 += (std::max_element(a, a + vocab) - a) ==
              (std::max_element(b, b + vocab) - b);
  }
  d.kl /= double(positions);
  d.top1 /= double(positions);
  return d;
}

void FloatModel::project(const std::string &weight, const float *x,
                         const std::vector<float> &w, float *y, int64_t T,
                         int64_t N, int64_t K) {
  if (observer)
    observer(weight, x, T, K);
  if (y)
    matmul(x, w.data(), y, T, N, K);
}

void FloatModel::forward(const int32_t *tokens, int64_t T, int64_t pos,
                         float *logits) {
  const int64_t D = cfg.dim, F = cfg.hidden, KV = cfg.kvDim();
  const int64_t hd = cfg.headDim(), group = cfg.heads / cfg.kvHeads;
  if (pos < 0 || T <= 0 || pos + T > cfg.context)
    throw model::FormatError("positions " + std::to_string(pos) + ".." +
                             std::to_string(pos + T - 1) +
                             " exceed the context of " +
                             std::to_string(cfg.context));
  std::vector<float> x(T * D), xn(T * D), q(T * D), k(T * KV), v(T * KV);
  std::vector<float> att(T * D), o(T * D), g(T * F), u(T * F), scores(pos + T);
  for (int64_t t = 0; t < T; ++t) {
    if (tokens[t] < 0 || tokens[t] >= cfg.vocab)
      throw model::FormatError("token id " + std::to_string(tokens[t]) +
                               " is outside the vocabulary");
    std::copy_n(&embedding[tokens[t] * D], D, &x[t * D]);
  }
  for (Layer &L : layers) {
    for (int64_t t = 0; t < T; ++t)
      rmsNorm(&x[t * D], L.attnNorm.data(), &xn[t * D], D, cfg.normEps);
    project(L.prefix + "attn_q.weight", xn.data(), L.wq, q.data(), T, D, D);
    project(L.prefix + "attn_k.weight", xn.data(), L.wk, k.data(), T, KV, D);
    project(L.prefix + "attn_v.weight", xn.data(), L.wv, v.data(), T, KV, D);
    for (int64_t t = 0; t < T; ++t) {
      if (cfg.qkvBias) {
        for (int64_t i = 0; i < D; ++i) q[t * D + i] += L.bq[i];
        for (int64_t i = 0; i < KV; ++i) k[t * KV + i] += L.bk[i];
        for (int64_t i = 0; i < KV; ++i) v[t * KV + i] += L.bv[i];
      }
      rope(&q[t * D], D, hd, pos + t, cfg);
      rope(&k[t * KV], KV, hd, pos + t, cfg);
      std::copy_n(&k[t * KV], KV, &L.keys[(pos + t) * KV]);
      std::copy_n(&v[t * KV], KV, &L.values[(pos + t) * KV]);
    }
    float scale = 1.0f / std::sqrt(float(hd));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < cfg.heads; ++h) {
        const float *qh = &q[t * D + h * hd];
        int64_t kvOff = (h / group) * hd, n = pos + t + 1;
        float mx = -INFINITY;
        for (int64_t j = 0; j < n; ++j) {
          const float *kj = &L.keys[j * KV + kvOff];
          float s = 0;
          for (int64_t i = 0; i < hd; ++i)
            s += qh[i] * kj[i];
          scores[j] = s * scale;
          mx = std::max(mx, scores[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < n; ++j)
          sum += scores[j] = std::exp(scores[j] - mx);
        float *out = &att[t * D + h * hd];
        std::fill_n(out, hd, 0.0f);
        for (int64_t j = 0; j < n; ++j) {
          float p = float(scores[j] / sum);
          const float *vj = &L.values[j * KV + kvOff];
          for (int64_t i = 0; i < hd; ++i)
            out[i] += p * vj[i];
        }
      }
    project(L.prefix + "attn_output.weight", att.data(), L.wo, o.data(), T, D,
            D);
    for (int64_t i = 0; i < T * D; ++i)
      x[i] += o[i];
    for (int64_t t = 0; t < T; ++t)
      rmsNorm(&x[t * D], L.ffnNorm.data(), &xn[t * D], D, cfg.normEps);
    project(L.prefix + "ffn_gate.weight", xn.data(), L.gate, g.data(), T, F, D);
    project(L.prefix + "ffn_up.weight", xn.data(), L.up, u.data(), T, F, D);
    for (int64_t i = 0; i < T * F; ++i)
      g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
    project(L.prefix + "ffn_down.weight", g.data(), L.down, o.data(), T, D, F);
    for (int64_t i = 0; i < T * D; ++i)
      x[i] += o[i];
  }
  for (int64_t t = 0; t < T; ++t)
    rmsNorm(&x[t * D], outputNorm.data(), &xn[t * D], D, cfg.normEps);
  project(outputName, xn.data(), output, logits, T, cfg.vocab, D);
}

PerplexityResult perplexity(const std::vector<int32_t> &tokens, int64_t ctx,
                            int64_t vocab, int32_t bos, int64_t maxChunks,
                            const std::function<void()> &reset,
                            const ForwardFn &forward) {
  PerplexityResult r;
  int64_t chunks = int64_t(tokens.size()) / ctx;
  if (maxChunks > 0)
    chunks = std::min(chunks, maxChunks);
  if (chunks == 0 || ctx < 2)
    throw model::FormatError("perplexity needs at least " +
                             std::to_string(2 * ctx) + " tokens, the text has " +
                             std::to_string(tokens.size()));
  std::vector<float> logits(ctx * vocab);
  std::vector<double> nlls;
  int64_t first = ctx / 2;
  for (int64_t c = 0; c < chunks; ++c) {
    std::vector<int32_t> window(tokens.begin() + c * ctx,
                                tokens.begin() + (c + 1) * ctx);
    if (bos >= 0)
      window[0] = bos;
    reset();
    forward(window.data(), ctx, 0, logits.data());
    for (int64_t j = first; j < ctx - 1; ++j) {
      const float *l = &logits[j * vocab];
      float mx = *std::max_element(l, l + vocab);
      double sum = 0;
      for (int64_t i = 0; i < vocab; ++i)
        sum += std::exp(double(l[i]) - mx);
      int32_t next = tokens[c * ctx + j + 1];
      nlls.push_back(std::log(sum) - (double(l[next]) - mx));
    }
  }
  double mean = 0, sq = 0;
  for (double v : nlls) {
    mean += v;
    sq += v * v;
  }
  mean /= double(nlls.size());
  sq /= double(nlls.size());
  r.meanNll = mean;
  r.perplexity = std::exp(mean);
  // As llama-perplexity: the uncertainty of the mean NLL, carried to PPL.
  double var = std::max(0.0, sq - mean * mean);
  r.stderrPpl = r.perplexity * std::sqrt(var / double(nlls.size() - 1));
  r.chunks = chunks;
  r.scored = int64_t(nlls.size());
  return r;
}

} // namespace qc
