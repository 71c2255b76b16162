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
    // Linear layers only: the token embedding and the output head stay.
    SmallVector<std::pair<ParamOp, QuantFormatAttrInterface>> work;
    module.walk([&](LinearOp op) {
      auto p = op.getWeight().getDefiningOp<ParamOp>();
      if (p && isa<RankedTensorType>(p.getType()) &&
          llvm::none_of(work, [&](auto &w) { return w.first == p; }))
        work.push_back({p, format});
    });
    if (failed(quantizeParams(module, work, ::qc::QuantMethod::Imatrix, out)))
      signalPassFailure();
  }
};

} // namespace
