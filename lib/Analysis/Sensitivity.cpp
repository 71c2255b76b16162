//===- Sensitivity.cpp ----------------------------------------------------===//
#include "qc/Analysis/Sensitivity.h"
#include "qc/Reference/Reference.h"
#include "qc/Tokenizer/Tokenizer.h"

#include <algorithm>

namespace qc {

std::map<std::string, double>
measureSensitivity(const model::Model &m, const std::string &text,
                   const std::map<std::string, std::vector<float>> &values,
                   int64_t ctx, int64_t windows) {
  Tokenizer tok(m.vocab);
  std::vector<int32_t> tokens = tok.encode(text, m.vocab.addBos);
  windows = std::min(windows, int64_t(tokens.size()) / ctx);
  if (windows < 1)
    throw model::FormatError("sensitivity text has " +
                             std::to_string(tokens.size()) +
                             " tokens, fewer than one window of " +
                             std::to_string(ctx));
  FloatModel fm(m, std::max(ctx, m.config.context));
  int64_t vocab = m.config.vocab;
  auto run = [&](std::vector<float> &logits) {
    logits.resize(windows * ctx * vocab);
    for (int64_t w = 0; w < windows; ++w) {
      std::vector<int32_t> window(tokens.begin() + w * ctx,
                                  tokens.begin() + (w + 1) * ctx);
      if (m.vocab.addBos && m.vocab.bos >= 0)
        window[0] = m.vocab.bos;
      fm.forward(window.data(), ctx, 0, logits.data() + w * ctx * vocab);
    }
  };
  std::vector<float> reference, perturbed;
  run(reference);
  std::map<std::string, double> out;
  for (const auto &[name, v] : values) {
    std::vector<float> &slot = fm.weight(name);
    std::vector<float> original = slot;
    slot = v;
    run(perturbed);
    slot = std::move(original);
    out[name] = divergence(reference.data(), perturbed.data(), windows * ctx,
                           vocab)
                    .kl;
  }
  return out;
}

double outputError(const std::vector<float> &w, const std::vector<float> &q,
                   int64_t rows, int64_t cols, const double *h) {
  std::vector<double> d(cols);
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c)
      d[c] = double(w[r * cols + c]) - q[r * cols + c];
    for (int64_t i = 0; i < cols; ++i) {
      double s = 0;
      const double *hi = h + i * cols;
      for (int64_t j = 0; j < cols; ++j)
        s += hi[j] * d[j];
      total += d[i] * s;
    }
  }
  return total;
}

} // namespace qc
