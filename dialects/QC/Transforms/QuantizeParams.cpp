//===- QuantizeParams.cpp -------------------------------------------------===//
#include "dialects/QC/Transforms/QuantizeParams.h"

#include "qc/Model/Archive.h"
#include "qc/Support/Progress.h"

#include <cstdio>
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
    // Block-by-block GPTQ can resume: its archive and state stay where an
    // interrupted run left them.
    writer.emplace(target, m->config, m->vocab, std::move(specs),
                   /*resumable=*/sequential != nullptr);
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
  std::string statePath = target + ".gptq-state";
  if (sequential) {
    ::qc::SequentialOptions options = sequential->options;
    options.statePath = statePath;
    ::qc::TensorSink sink{
        [&](const std::string &name, const uint8_t *bytes, size_t size) {
          writer->write(name, bytes, size);
        },
        [&](const std::string &name) { writer->keep(name); }};
    try {
      ::qc::quantizeSequential(*m, sequential->text, formatOf, options, sink);
    } catch (const ::qc::SequentialInterrupted &e) {
      writer->leaveForResume();
      return module.emitError("interrupted: ")
             << e.what() << "; " << writer->temporaryPath()
             << " holds the blocks written so far (run again to resume)";
    } catch (const std::exception &e) {
      std::remove(statePath.c_str());
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
             << "or run qc-calibrate with xtx=true (an imatrix file holds only "
             << "its diagonal)";
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
    if (sequential)
      std::remove(statePath.c_str());
  } catch (const std::exception &e) {
    return module.emitError("cannot write the weights archive: ") << e.what();
  }
  pointWeightsAt(module, target);
  return success();
}

} // namespace mlir::qc
