//===- TernaryEncode.cpp - qc-ternary-encode ------------------------------===//
#include "dialects/QC/Transforms/Passes.h"
#include "dialects/QC/Transforms/QuantizeParams.h"

namespace mlir::qc {
#define GEN_PASS_DEF_QCTERNARYENCODE
#include "dialects/QC/Transforms/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;

namespace {

struct QCTernaryEncodePass
    : mlir::qc::impl::QCTernaryEncodeBase<QCTernaryEncodePass> {
  using QCTernaryEncodeBase::QCTernaryEncodeBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string why = ::qc::formats::checkTernaryParams(
        {int(depth), int(group), int(scales)});
    if (!why.empty()) {
      module.emitError("ternary format ") << why;
      return signalPassFailure();
    }
    auto format = cast<QuantFormatAttrInterface>(
        TernaryFormatAttr::get(&getContext(), depth, group, scales));
    // Linear layers, and with `embeddings` the token embedding and output
    // head too (a tied head is one param).
    SmallVector<std::pair<ParamOp, QuantFormatAttrInterface>> work;
    auto take = [&](Value weight) {
      auto p = weight.getDefiningOp<ParamOp>();
      if (p && isa<RankedTensorType>(p.getType()) &&
          llvm::none_of(work, [&](auto &w) { return w.first == p; }))
        work.push_back({p, format});
    };
    module.walk([&](Operation *op) {
      if (auto l = dyn_cast<LinearOp>(op))
        take(l.getWeight());
      else if (auto e = dyn_cast<EmbeddingOp>(op); e && embeddings)
        take(e.getTable());
      else if (auto l = dyn_cast<LogitsOp>(op); l && embeddings)
        take(l.getWeight());
    });
    if (failed(quantizeParams(module, work, ::qc::QuantMethod::Imatrix, out)))
      signalPassFailure();
  }
};

} // namespace
