//===- Quantize.cpp - qc-quantize -----------------------------------------===//
#include "dialects/QC/Transforms/Passes.h"
#include "dialects/QC/Transforms/QuantizeParams.h"
#include "dialects/QC/Transforms/WeightArchive.h"

#include "qc/Formats/Layout.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace mlir::qc {
#define GEN_PASS_DEF_QCQUANTIZE
#include "dialects/QC/Transforms/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;

namespace {

struct QCQuantizePass : mlir::qc::impl::QCQuantizeBase<QCQuantizePass> {
  using QCQuantizeBase::QCQuantizeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    ::qc::QuantMethod m;
    if (!::qc::parseQuantMethod(method, m)) {
      module.emitError("method must be rtn, imatrix or gptq, got '")
          << method << "'";
      return signalPassFailure();
    }
    SmallVector<std::pair<ParamOp, QuantFormatAttrInterface>> work;
    module.walk([&](ParamOp p) {
      if (auto f = p->getAttrOfType<QuantFormatAttrInterface>("qc.format"))
        work.push_back({p, f});
    });
    if (work.empty())
      return; // nothing assigned: nothing to do
    // Only weights that feed a product have input statistics; a table that
    // is only looked up (an untied token embedding) is rounded to nearest.
    auto feedsProduct = [](ParamOp p) {
      return llvm::any_of(p->getUsers(), [](Operation *user) {
        return isa<LinearOp, LogitsOp>(user);
      });
    };
    if (!calib.empty() && m != ::qc::QuantMethod::GPTQ) {
      module.emitError("calib= runs GPTQ block by block: it needs "
                       "method=gptq, got '")
          << method << "'";
      return signalPassFailure();
    }
    std::optional<SequentialGPTQ> sequential;
    if (!calib.empty()) {
      FailureOr<std::string> text =
          readOptionFile(module, "calibration text", calib);
      if (failed(text))
        return signalPassFailure();
      sequential.emplace();
      sequential->text = *text;
      sequential->options.windows.ctx = ctx;
      sequential->options.windows.chunks = chunks;
      sequential->options.floatInputs = floatInputs;
      sequential->options.stopAfterBlock = stopAfterBlock;
      sequential->options.threads = threads;
    }
    // A weight the statistics have no entry for (llama-imatrix records
    // none for a tied output head's token_embd.weight) takes the
    // unweighted search; without any statistics, the method cannot run.
    if (m != ::qc::QuantMethod::RTN && !sequential) {
      SmallVector<ParamOp> missing;
      bool any = false;
      for (auto [p, f] : work) {
        any |= p->hasAttr("qc.importance");
        bool rounds = f.getCodec()->layout().kind != ::qc::formats::Layout::Float;
        if (!p->hasAttr("qc.importance") && feedsProduct(p) && rounds)
          missing.push_back(p);
      }
      if (!missing.empty() && !any) {
        missing.front().emitError("method=")
            << method << " needs importance statistics: run qc-calibrate "
            << "first (or method=rtn)";
        return signalPassFailure();
      }
      for (ParamOp p : missing)
        llvm::errs() << "qc-quantize: note: " << p.getName()
                     << ": no importance statistics for it; unweighted search\n";
    }
    if (failed(quantizeParams(module, work, m, out,
                              sequential ? &*sequential : nullptr)))
      signalPassFailure();
  }
};

} // namespace
