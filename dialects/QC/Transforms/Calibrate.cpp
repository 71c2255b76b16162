//===- Calibrate.cpp - qc-calibrate ---------------------------------------===//
#include "dialects/QC/Transforms/Passes.h"
#include "dialects/QC/Transforms/WeightArchive.h"
#include "qc/Analysis/Importance.h"
#include "qc/CompiledLibrary.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>


namespace mlir::qc {
#define GEN_PASS_DEF_QCCALIBRATE
#include "dialects/QC/Transforms/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;

namespace {

struct QCCalibratePass
    : mlir::qc::impl::QCCalibrateBase<QCCalibratePass> {
  using QCCalibrateBase::QCCalibrateBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (calib.empty() == imatrix.empty()) {
      module.emitError("qc-calibrate needs exactly one of calib=TEXT (run "
                       "the model) or imatrix=FILE (use given statistics)");
      return signalPassFailure();
    }
    FailureOr<std::string> archive = resolveWeightsPath(module);
    FailureOr<::qc::model::Model> model = loadWeights(module);
    if (failed(archive) || failed(model))
      return signalPassFailure();
    std::string statsPath = out.empty() ? *archive + ".imatrix" : out;
    std::string xtxPath = statsPath + ".xtx";
    try {
      ::qc::ImportanceStats stats;
      if (!imatrix.empty()) {
        stats = ::qc::readImatrix(imatrix);
        statsPath = imatrix;
      } else {
        FailureOr<std::string> text =
            readOptionFile(module, "calibration text", calib);
        if (failed(text))
          return signalPassFailure();
        ::qc::CalibrationOptions options;
        options.ctx = ctx;
        options.chunks = chunks;
        options.collectXtX = xtx;
        if (compiled.empty()) {
          stats = ::qc::calibrate(*model, *text, options);
        } else {
          int64_t context = ctx; // a window from position 0
          ::qc::CompiledLibrary library(
              compiled, *archive,
              qc_options{int(threads), context, /*mmap, a block at a time=*/2});
          stats = ::qc::calibrate(
              *model, *text, options,
              [&](const int32_t *tokens, int64_t count,
                  const ::qc::InputObserver &observer) {
                library.observeInputs(observer);
                library.eval(tokens, count, 0, /*all=*/true,
                             /*logits=*/nullptr);
              });
        }
        stats.dataset = calib;
        ::qc::writeImatrix(stats, statsPath);
        if (xtx)
          ::qc::writeXtX(stats, xtxPath);
        llvm::errs() << "qc-calibrate: wrote " << statsPath
                     << (xtx ? " and " + xtxPath : std::string()) << "\n";
      }
      stats.checkAgainst(*model);
      annotate(module, stats, statsPath, xtxPath);
    } catch (const std::exception &e) {
      module.emitError("calibration failed: ") << e.what();
      return signalPassFailure();
    }
  }

  void annotate(ModuleOp module, const ::qc::ImportanceStats &stats,
                const std::string &statsPath, const std::string &xtxPath) {
    MLIRContext *ctx = module.getContext();
    std::string statsRef = relativeToModule(module, statsPath);
    std::string xtxRef = relativeToModule(module, xtxPath);
    for (ParamOp param : matrixParams(module)) {
      auto it = stats.weights.find(param.getName().str());
      if (it == stats.weights.end())
        continue; // e.g. the token embedding: a lookup, not a product
      param->setAttr("qc.importance",
                     StatsAttr::get(ctx, statsRef, param.getName()));
      if (!it->second.xtx.empty())
        param->setAttr("qc.hessian", StatsAttr::get(ctx, xtxRef, param.getName()));
    }
  }
};

} // namespace
