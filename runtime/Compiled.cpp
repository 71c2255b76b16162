//===- Compiled.cpp - Entry point of a compiled program or library --------===//
//
// Linked into what quant-compile builds, beside the generated object that
// defines qc_compiled_kernels.
//
//===----------------------------------------------------------------------===//
#include "qc/runtime.h"

extern "C" {

extern const qc_kernel_table qc_compiled_kernels;

qc_model *qc_open(const char *weights, const qc_options *options, char *error,
                  size_t errorSize) {
  return qc_model_load(&qc_compiled_kernels, weights, options, error,
                       errorSize);
}

const qc_kernel_table *qc_kernels(void) { return &qc_compiled_kernels; }

} // extern "C"
