//===- Allocation.h - Format rules and bit allocation -----------*- C++ -*-===//
#ifndef QC_ANALYSIS_ALLOCATION_H
#define QC_ANALYSIS_ALLOCATION_H

#include <cstdint>
#include <string>
#include <vector>

namespace qc {

/// The format llama.cpp's quantization mix `mix` (Q3_K_M, Q4_K_M, ...) gives
/// tensor `name` of layer `layer` of `layers` (-1 outside the blocks), after
/// llama.cpp's llama_tensor_get_type; "" when `mix` is not a known mix.
std::string mixFormat(const std::string &mix, const std::string &name,
                      int layer, int layers);

/// `format` if rows of `cols` weights fit its blocks, else llama.cpp's
/// fallback (Q2_K/Q3_K -> IQ4_NL, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0),
/// else F16 (which holds any row).
std::string fitFormat(const std::string &format, int64_t cols);

/// The layer index of "blk.N.*" names, -1 for others.
int layerOf(const std::string &name);

/// One choice for one tensor: its size and its estimated error.
struct Choice {
  double bits;
  double error;
};

/// Multiple-choice knapsack: one choice per tensor, total bits at most
/// `budgetBits`, least total error. Lagrangian relaxation (bisection on the
/// price of a bit), then leftover bits spent on the upgrades with the best
/// error reduction per bit. Returns the chosen index per tensor; when even
/// the smallest choices exceed the budget, those.
std::vector<int> allocateBits(const std::vector<std::vector<Choice>> &options,
                              double budgetBits);

} // namespace qc

#endif // QC_ANALYSIS_ALLOCATION_H
