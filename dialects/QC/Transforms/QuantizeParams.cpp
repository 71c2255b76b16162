//===- QuantizeParams.cpp -------------------------------------------------===//
#include "dialects/QC/Transforms/QuantizeParams.h"

#include "qc/Model/Archive.h"
#include "qc/Support/Progress.h"

#include <optional>

namespace mlir::qc {

LogicalResult
quantizeParams(ModuleOp module,
               ArrayRef<std::pair<ParamOp, QuantFormatAttrInterface>> work,
               ::qc::QuantMethod method, const std::string &out,
               const SequentialGPTQ *sequential) {
  FailureOr<std::string> archive = resolveWeightsPath(module);
  FailureOr<::qc::model::Model> m = loadWeights(module);
  if (failed(archive) || failed(m))
    return failure();
  std::string base = *archive;
  if (base.size() > 12 && base.compare(base.size() - 12, 12, ".safetensors") == 0)
    base.resize(base.size() - 12);
  std::string target = out.empty() ? base + ".q.safetensors" : out;
  StatisticsCache stats(module);
  // Every entry's size is known before any tensor is quantized, so the
  // archive streams: one tensor quantized, written and dropped at a time.
  std::map<std::string, std::string> formatOf;
  for (auto [param, format] : work)
    formatOf[param.getName().str()] = format.getCodec()->name();
  std::optional<::qc::model::ArchiveWriter> writer;
  try {
    std::vector<::qc::model::TensorSpec> specs;
    for (const auto &[name, t] : m->tensors) {
      auto f = formatOf.find(name);
      specs.push_back(f == formatOf.end() ? ::qc::model::specOf(t)
                                          : ::qc::quantizedSpec(t, f->second));
    }
    writer.emplace(target, m->config, m->vocab, std::move(specs));
  } catch (const std::exception &e) {
    return module.emitError("cannot quantize: ") << e.what();
  }
  auto retype = [&](ParamOp param, QuantFormatAttrInterface format) {
    param.getResult().setType(
        QTensorType::get(module.getContext(),
                         getLogicalShape(param.getType()), format));
    for (StringRef attr : {"qc.format", "qc.importance", "qc.hessian"})
      param->removeAttr(attr);
  };
  if (sequential) {
    try {
      ::qc::quantizeSequential(
          *m, sequential->text, formatOf, sequential->options,
          [&](const std::string &name, const uint8_t *bytes, size_t size) {
            writer->write(name, bytes, size);
          });
    } catch (const std::exception &e) {
      return module.emitError("cannot quantize: ") << e.what();
    }
    for (auto [param, format] : work)
      retype(param, format);
  }
  ::qc::Progress progress("quantize", double(work.size()));
  size_t done = 0;
  std::vector<uint8_t> packed;
  for (auto [param, format] : sequential ? decltype(work)() : work) {
    std::string name = param.getName().str();
    progress.update(double(done++), name);
    FailureOr<std::vector<float>> imp = stats.importance(param);
    FailureOr<std::vector<double>> h = stats.hessian(param);
    if (failed(imp) || failed(h))
      return failure();
    // A weight that feeds a product has importance; GPTQ also needs its
    // X^T X. (Lookup tables have neither and are rounded to nearest.)
    if (method == ::qc::QuantMethod::GPTQ && h->empty() && !imp->empty())
      return param.emitError("method=gptq needs X^T X for '")
             << name << "': give qc-quantize calib=TEXT (block by block) "
             << "or run qc-calibrate with xtx=true";
    try {
      const ::qc::model::Tensor &source = m->tensor(name);
      packed.resize(::qc::quantizedSpec(source, formatOf[name]).bytes);
      ::qc::quantizeTensorInto(source, formatOf[name], method,
                               imp->empty() ? nullptr : imp->data(),
                               h->empty() ? nullptr : h->data(),
                               packed.data());
      writer->write(name, packed.data(), packed.size());
      ::qc::model::releasePages(source);
    } catch (const std::exception &e) {
      return param.emitError("cannot quantize: ") << e.what();
    }
    retype(param, format);
  }
  progress.update(double(done), "writing " + target);
  try {
    for (const auto &[name, t] : m->tensors)
      if (!formatOf.count(name)) {
        writer->write(name, t.data(), t.size());
        ::qc::model::releasePages(t);
      }
    writer->commit();
  } catch (const std::exception &e) {
    return module.emitError("cannot write the weights archive: ") << e.what();
  }
  pointWeightsAt(module, target);
  return success();
}

} // namespace mlir::qc
