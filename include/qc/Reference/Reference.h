//===- Reference.h - Independent float reference ---------------*- C++ -*-===//
//
// Plain C++ (no MLIR, no generated code): runs an imported model in f32 so
// every compiled or quantized result has something independent to be
// compared with.
//
//===----------------------------------------------------------------------===//
#ifndef QC_REFERENCE_REFERENCE_H
#define QC_REFERENCE_REFERENCE_H

#include "qc/Model/Model.h"

#include <functional>
#include <vector>

namespace qc {

/// y = x / rms(x) * w over `n` values.
void rmsNorm(const float *x, const float *w, float *y, int64_t n, float eps);
/// Rotates the heads (`headDim` values each) of `v` (`width` values) for
/// position `pos`, as the model's RoPE does.
void rope(float *v, int64_t width, int64_t headDim, int64_t pos,
          const model::Config &c);

class FloatModel {
public:
  /// Dequantizes every weight of `model` to f32; the KV cache holds
  /// `context` positions (the model's own context when 0).
  explicit FloatModel(const model::Model &model, int64_t context = 0);

  const model::Config &config() const { return cfg; }

  /// Called with the input rows of every matrix multiply before it runs,
  /// named by its weight (calibration statistics hook in here).
  using InputObserver =
      std::function<void(const std::string &weight, const float *x,
                         int64_t rows, int64_t cols)>;
  void setInputObserver(InputObserver o) { observer = std::move(o); }

  /// The f32 values of a weight, by tensor name, to read or replace (the
  /// sensitivity analysis swaps one quantized tensor in at a time).
  std::vector<float> &weight(const std::string &name);
  /// Runs `count` tokens at positions pos..pos+count-1 through the model,
  /// appending their keys and values to the cache; writes count x vocab
  /// logits to `logits` (null: the head's product is skipped, its input
  /// still goes to the observer).
  void forward(const int32_t *tokens, int64_t count, int64_t pos,
               float *logits);

private:
  void project(const std::string &weight, const float *x,
               const std::vector<float> &w, float *y, int64_t T, int64_t N,
               int64_t K);

  struct Layer {
    std::string prefix; // "blk.N."
    std::vector<float> attnNorm, wq, wk, wv, wo, bq, bk, bv;
    std::vector<float> ffnNorm, gate, up, down;
    std::vector<float> keys, values; // [context x kvDim]
  };
  model::Config cfg;
  std::vector<float> embedding, outputNorm, output;
  std::vector<Layer> layers;
  std::string outputName;
  InputObserver observer;
};

/// Mean KL divergence KL(P || Q) per position between two sets of logits
/// (`positions` x `vocab` each), the fraction of positions whose argmax
/// agrees, the largest absolute logit difference and the smallest cosine
/// similarity of two positions' logit vectors.
struct Divergence {
  double kl = 0, top1 = 0, maxAbs = 0, minCosine = 1;
};
Divergence divergence(const float *reference, const float *other,
                      int64_t positions, int64_t vocab);

/// Logits of `count` tokens at positions pos..: count x vocab floats.
using ForwardFn = std::function<void(const int32_t *tokens, int64_t count,
                                     int64_t pos, float *logits)>;

struct PerplexityResult {
  double perplexity = 0, stderrPpl = 0, meanNll = 0;
  int64_t chunks = 0, scored = 0;
};

/// llama-perplexity's method: non-overlapping windows of `ctx` tokens (the
/// first replaced by BOS when `bos` >= 0), scoring the second half of each.
/// `reset` clears the KV cache before each window.
PerplexityResult perplexity(const std::vector<int32_t> &tokens, int64_t ctx,
                            int64_t vocab, int32_t bos, int64_t maxChunks,
                            const std::function<void()> &reset,
                            const ForwardFn &forward);

} // namespace qc

#endif // QC_REFERENCE_REFERENCE_H
