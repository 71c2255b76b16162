//===- Engine.h - Running a model: logits, text, perplexity -----*- C++ -*-===//
//
// What quant-run and the Python package do with a model, in one place: run
// it on the float reference or on a library quant-compile built, generate
// text, and score text (perplexity, KL divergence from a baseline).
//
//===----------------------------------------------------------------------===//
#ifndef QC_RUN_ENGINE_H
#define QC_RUN_ENGINE_H

#include "qc/Analysis/Importance.h"
#include "qc/CompiledLibrary.h"
#include "qc/Model/Model.h"
#include "qc/Reference/Reference.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace qc {

struct EngineOptions {
  std::string compiled; // a library quant-compile built; empty: the reference
  std::string weights;  // what the library loads (empty: the one it names)
  int threads = 0;      // the library's threads (0: all cores)
  bool mmap = false;    // the library runs on the weights mapped in place
  bool releaseBlocks = false; // mapped: one block's pages resident at a time
};

/// Runs a model: on the float reference, or on the kernels of a library
/// quant-compile built, through that library's own runtime.
class Engine {
public:
  /// The KV cache holds `context` positions.
  Engine(const model::Model &m, const EngineOptions &o, int64_t context);

  int64_t context() const { return contextSize; }
  /// Logits of all `count` tokens at positions pos.., or (all = false) of
  /// the last one; none (null `logits`) where only the observer matters.
  void eval(const int32_t *tokens, int64_t count, int64_t pos, float *logits,
            bool all = true);
  /// Reports every product's input to `observer` from now on.
  void observe(const InputObserver &observer);

private:
  int64_t vocab, contextSize;
  std::unique_ptr<FloatModel> reference;
  std::unique_ptr<CompiledLibrary> compiled;
};

/// The tokens of `text`; `unusual` (when given) counts byte fallbacks and
/// unknown tokens, which a text the vocabulary does not know is made of.
std::vector<int32_t> textTokens(const model::Model &m, const std::string &text,
                                size_t *unusual = nullptr);

/// Up to `count` tokens after `prompt` (stopping at end of sequence),
/// picked by `sampler` (null or temperature 0: greedy); `onPiece` sees
/// each token's text as it comes. Returns the new text. The engine's
/// context must hold the prompt and the new tokens.
std::string generate(const model::Model &m, Engine &engine,
                     const std::string &prompt, int64_t count,
                     const qc_sampler *sampler,
                     const std::function<void(const std::string &)> &onPiece =
                         nullptr);

/// llama-perplexity's measure over `ids` (windows of `ctx`, at most
/// `chunks` of them when > 0); the engine's context holds `ctx`.
PerplexityResult perplexityOf(const model::Model &m, Engine &engine,
                              const std::vector<int32_t> &ids, int64_t ctx,
                              int64_t chunks);

struct KldResult {
  double kld = 0, top1 = 0, maxAbs = 0, minCosine = 1;
  int64_t chunks = 0, positions = 0;
};
/// KL(P_baseline || P_model) per scored position over the same windows as
/// perplexityOf (the second half of each), and how often the argmax agrees.
KldResult kldOf(const model::Model &m, Engine &engine, Engine &baseline,
                const std::vector<int32_t> &ids, int64_t ctx, int64_t chunks);

} // namespace qc

#endif // QC_RUN_ENGINE_H
