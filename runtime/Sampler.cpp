//===- Sampler.cpp - Picking the next token ------------------------------===//
//
// Its own object in qc_runtime: tools that sample (quant-run, the Python
// package) link it without the rest of the runtime.
//
//===----------------------------------------------------------------------===//
#include "qc/runtime.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

extern "C" {

int32_t qc_sample(const float *logits, int64_t vocab, const qc_sampler *s,
                  uint64_t *state) {
  if (!s || s->temperature <= 0)
    return int32_t(std::max_element(logits, logits + vocab) - logits);
  std::vector<std::pair<float, int32_t>> c(vocab);
  for (int64_t i = 0; i < vocab; ++i)
    c[i] = {logits[i] / s->temperature, int32_t(i)};
  int64_t k = s->top_k > 0 ? std::min<int64_t>(s->top_k, vocab) : vocab;
  std::partial_sort(c.begin(), c.begin() + k, c.end(),
                    [](auto &a, auto &b) { return a.first > b.first; });
  c.resize(k);
  double sum = 0;
  const float top = c[0].first; // c[0] itself is overwritten below
  for (auto &e : c)
    sum += e.first = std::exp(e.first - top);
  // Nucleus: the smallest prefix whose probability reaches top_p.
  if (s->top_p > 0 && s->top_p < 1) {
    double acc = 0;
    size_t keep = 0;
    while (keep < c.size() && acc < s->top_p * sum)
      acc += c[keep++].first;
    c.resize(std::max<size_t>(1, keep));
    sum = acc;
  }
  // splitmix64 step: a reproducible stream from the seed.
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  double r = double(z >> 11) / double(1ull << 53) * sum;
  for (auto &e : c)
    if ((r -= e.first) <= 0)
      return e.second;
  return c.back().second;
}

} // extern "C"
