//===- Allocation.cpp - llama.cpp mixes, fallbacks, knapsack --------------===//
#include "qc/Analysis/Allocation.h"
#include "qc/Formats/Codec.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qc {

int layerOf(const std::string &name) {
  if (name.compare(0, 4, "blk.") != 0)
    return -1;
  size_t dot = name.find('.', 4);
  if (dot == std::string::npos || dot == 4)
    return -1;
  int layer = 0;
  for (size_t i = 4; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9' || layer > 100000)
      return -1;
    layer = layer * 10 + (name[i] - '0');
  }
  return layer;
}

namespace {

bool contains(const std::string &s, const char *part) {
  return s.find(part) != std::string::npos;
}

/// llama.cpp's use_more_bits: the first and last eighth, and every third
/// layer in between.
bool useMoreBits(int layer, int layers) {
  return layer < layers / 8 || layer >= 7 * layers / 8 ||
         (layer - layers / 8) % 3 == 2;
}

} // namespace

std::string mixFormat(const std::string &mix, const std::string &name,
                      int layer, int layers) {
  static const char *const kPlain[] = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
                                       "F16",  "BF16", "F32",  "Q6_K"};
  bool plain = std::find_if(std::begin(kPlain), std::end(kPlain), [&](auto p) {
                 return mix == p;
               }) != std::end(kPlain);
  std::string base = mix == "Q3_K_S" || mix == "Q3_K_M" || mix == "Q3_K_L"
                         ? "Q3_K"
                     : mix == "Q4_K_S" || mix == "Q4_K_M" ? "Q4_K"
                     : mix == "Q5_K_S" || mix == "Q5_K_M" ? "Q5_K"
                     : mix == "Q2_K"                      ? "Q2_K"
                     : plain                              ? mix
                                                          : "";
  if (base.empty())
    return "";
  bool floatMix = mix == "F16" || mix == "BF16" || mix == "F32";
  if (name == "output.weight")
    return floatMix || mix == "Q8_0" ? mix : "Q6_K";
  if (name == "token_embd.weight")
    return base;
  if (contains(name, "attn_v.weight")) {
    if (mix == "Q3_K_M")
      return layer < 2 ? "Q5_K" : "Q4_K";
    if (mix == "Q3_K_L")
      return "Q5_K";
    if ((mix == "Q4_K_M" || mix == "Q5_K_M") && useMoreBits(layer, layers))
      return "Q6_K";
    if (mix == "Q4_K_S" && layer < 4)
      return "Q5_K";
    if (mix == "Q2_K")
      return "Q4_K";
  } else if (contains(name, "ffn_down")) {
    if (mix == "Q3_K_M")
      return layer < layers / 16 ? "Q5_K" : "Q4_K";
    if (mix == "Q3_K_L")
      return "Q5_K";
    if ((mix == "Q4_K_M" || mix == "Q5_K_M") && useMoreBits(layer, layers))
      return "Q6_K";
    if (mix == "Q4_K_S" && layer < layers / 8)
      return "Q5_K";
    if (mix == "Q2_K")
      return "Q3_K";
  } else if (contains(name, "attn_output.weight")) {
    if (mix == "Q3_K_M")
      return "Q4_K";
    if (mix == "Q3_K_L")
      return "Q5_K";
    if (mix == "Q2_K")
      return "Q3_K";
  }
  return base;
}

std::string fitFormat(const std::string &format, int64_t cols) {
  auto fits = [&](const std::string &f) {
    auto codec = formats::makeCodec(f);
    return codec && codec->checkRowLength(cols).empty();
  };
  if (fits(format))
    return format;
  std::string fallback = format == "Q2_K" || format == "Q3_K" ? "IQ4_NL"
                         : format == "Q4_K"                   ? "Q5_0"
                         : format == "Q5_K"                   ? "Q5_1"
                         : format == "Q6_K"                   ? "Q8_0"
                                                              : "";
  if (!fallback.empty() && fits(fallback))
    return fallback;
  return "F16";
}

std::vector<int> allocateBits(const std::vector<std::vector<Choice>> &options,
                              double budgetBits) {
  size_t n = options.size();
  // For a price lambda per bit, each tensor takes its cheapest choice.
  auto pick = [&](double lambda, std::vector<int> &chosen) {
    double total = 0;
    for (size_t t = 0; t < n; ++t) {
      int best = 0;
      double bestCost = std::numeric_limits<double>::infinity();
      for (size_t c = 0; c < options[t].size(); ++c) {
        double cost = options[t][c].error + lambda * options[t][c].bits;
        if (cost < bestCost ||
            (cost == bestCost && options[t][c].bits < options[t][best].bits)) {
          bestCost = cost;
          best = int(c);
        }
      }
      chosen[t] = best;
      total += options[t][best].bits;
    }
    return total;
  };
  std::vector<int> chosen(n), trial(n);
  double lo = 0, hi = 1;
  while (pick(hi, trial) > budgetBits && hi < 1e30)
    hi *= 4;
  pick(hi, chosen);
  for (int it = 0; it < 200; ++it) { // bisection in log space
    double mid = lo == 0 ? hi / 1024 : std::sqrt(lo * hi);
    if (pick(mid, trial) <= budgetBits) {
      hi = mid;
      chosen = trial;
    } else {
      lo = mid;
    }
    if (lo > 0 && hi / lo < 1.0 + 1e-9)
      break;
  }
  // Spend what is left on the best error reduction per extra bit.
  double total = 0;
  for (size_t t = 0; t < n; ++t)
    total += options[t][chosen[t]].bits;
  while (true) {
    double bestGain = 0;
    size_t bestT = n;
    int bestC = -1;
    for (size_t t = 0; t < n; ++t)
      for (size_t c = 0; c < options[t].size(); ++c) {
        const Choice &now = options[t][chosen[t]], &alt = options[t][c];
        double extra = alt.bits - now.bits;
        if (alt.error >= now.error || total + extra > budgetBits)
          continue;
        double gain = (now.error - alt.error) / std::max(extra, 1e-9);
        if (gain > bestGain) {
          bestGain = gain;
          bestT = t;
          bestC = int(c);
        }
      }
    if (bestT == n)
      break;
    total += options[bestT][bestC].bits - options[bestT][chosen[bestT]].bits;
    chosen[bestT] = bestC;
  }
  return chosen;
}

} // namespace qc
