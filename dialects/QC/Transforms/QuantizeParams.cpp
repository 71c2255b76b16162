//===- QuantizeParams.cpp -------------------------------------------------===//
#include "dialects/QC/Transforms/QuantizeParams.h"

#include <chrono>
#include <cstdio>
#include <unistd.h>

namespace mlir::qc {

namespace {

/// A progress bar on stderr while tensors are quantized (a terminal only:
/// logs and tests see nothing).
class ProgressBar {
public:
  explicit ProgressBar(size_t total)
      : total(total), shown(total > 1 && isatty(2)),
        start(std::chrono::steady_clock::now()) {}
  ~ProgressBar() {
    if (shown)
      std::fprintf(stderr, "\n");
  }
  void step(size_t done, llvm::StringRef name) {
    if (!shown)
      return;
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    int filled = int(30 * done / total);
    std::fprintf(stderr, "\r[%.*s%*s] %zu/%zu %6.1fs %-40.40s",
                 filled, "##############################", 30 - filled, "",
                 done, total, seconds, name.str().c_str());
    std::fflush(stderr);
  }

private:
  size_t total;
  bool shown;
  std::chrono::steady_clock::time_point start;
};

} // namespace

LogicalResult
quantizeParams(ModuleOp module,
               ArrayRef<std::pair<ParamOp, QuantFormatAttrInterface>> work,
               ::qc::QuantMethod method, const std::string &out) {
  FailureOr<std::string> archive = resolveWeightsPath(module);
  FailureOr<::qc::model::Model> m = loadWeights(module);
  if (failed(archive) || failed(m))
    return failure();
  std::string base = *archive;
  if (base.size() > 12 && base.compare(base.size() - 12, 12, ".safetensors") == 0)
    base.resize(base.size() - 12);
  std::string target = out.empty() ? base + ".q.safetensors" : out;
  StatisticsCache stats(module);
  ProgressBar progress(work.size());
  size_t done = 0;
  for (auto [param, format] : work) {
    std::string name = param.getName().str();
    progress.step(done++, name);
    FailureOr<std::vector<float>> imp = stats.importance(param);
    FailureOr<std::vector<double>> h = stats.hessian(param);
    if (failed(imp) || failed(h))
      return failure();
    // A weight that feeds a product has importance; GPTQ also needs its
    // X^T X. (Lookup tables have neither and are rounded to nearest.)
    if (method == ::qc::QuantMethod::GPTQ && h->empty() && !imp->empty())
      return param.emitError("method=gptq needs X^T X for '")
             << name << "': run qc-calibrate with xtx=true";
    try {
      ::qc::model::Tensor q = ::qc::quantizeTensor(
          m->tensor(name), format.getCodec()->name(), method,
          imp->empty() ? nullptr : imp->data(),
          h->empty() ? nullptr : h->data());
      m->tensors[name] = std::move(q);
    } catch (const std::exception &e) {
      return param.emitError("cannot quantize: ") << e.what();
    }
    param.getResult().setType(
        QTensorType::get(module.getContext(),
                         getLogicalShape(param.getType()), format));
    for (StringRef attr : {"qc.format", "qc.importance", "qc.hessian"})
      param->removeAttr(attr);
  }
  progress.step(done, "writing " + target);
  return storeWeights(module, *m, target);
}

} // namespace mlir::qc
