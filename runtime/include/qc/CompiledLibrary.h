//===- CompiledLibrary.h - A library quant-compile built, opened -*- C++ -*-===//
//
// Opens a shared library quant-compile built (dlopen, local symbols) and
// runs it through its own runtime's C ABI, so a tool can drive generated
// kernels without linking the runtime: quant-run's --compiled runs and
// qc-calibrate's compiled= calibration.
//
//===----------------------------------------------------------------------===//
#ifndef QC_COMPILEDLIBRARY_H
#define QC_COMPILEDLIBRARY_H

#include "qc/runtime.h"

#include <functional>
#include <string>

namespace qc {

class CompiledLibrary {
public:
  /// Opens `path` (a bare file name is a file in the working directory, not
  /// a library search) and loads `weights` into it. Throws
  /// std::runtime_error naming the file and the cause.
  CompiledLibrary(const std::string &path, const std::string &weights,
                  const qc_options &options);
  ~CompiledLibrary();
  /// The weights archive the library at `path` loads by default (the one
  /// it was compiled from). Throws std::runtime_error like the constructor.
  static std::string defaultWeights(const std::string &path);
  CompiledLibrary(const CompiledLibrary &) = delete;
  CompiledLibrary &operator=(const CompiledLibrary &) = delete;

  int64_t vocab() const { return api.vocab(model); }
  /// qc_model_eval; throws std::runtime_error with the runtime's message.
  void eval(const int32_t *tokens, int64_t count, int64_t pos, bool all,
            float *logits);
  /// Reports the input of every product to `observer`, once per weight
  /// (q, k and v each get their shared input); an empty one stops it.
  using InputObserver = std::function<void(const std::string &weight,
                                           const float *x, int64_t rows,
                                           int64_t cols)>;
  void observeInputs(InputObserver observer);

private:
  struct {
    decltype(&qc_open) open;
    decltype(&qc_model_free) free;
    decltype(&qc_model_eval) eval;
    decltype(&qc_model_error) error;
    decltype(&qc_model_vocab) vocab;
    decltype(&qc_model_observe_inputs) observe;
  } api;
  InputObserver observer;
  void *handle = nullptr;
  qc_model *model = nullptr;
};

} // namespace qc

#endif // QC_COMPILEDLIBRARY_H
