//===- QuantizeParams.cpp -------------------------------------------------===//
#include "dialects/QC/Transforms/QuantizeParams.h"

namespace mlir::qc {

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
  for (auto [param, format] : work) {
    std::string name = param.getName().str();
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
  return storeWeights(module, *m, target);
}

} // namespace mlir::qc
