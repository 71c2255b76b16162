//===- ExpandDequantize.cpp - qc-expand-dequantize ------------------------===//
#include "dialects/QC/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qc {
#define GEN_PASS_DEF_QCEXPANDDEQUANTIZE
#include "dialects/QC/Transforms/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;

namespace {

struct ExpandUnpackedDequantize : OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto unpack = op.getInput().getDefiningOp<UnpackOp>();
    if (!unpack)
      return rewriter.notifyMatchFailure(op, "input is not unpacked bytes");
    QuantFormatAttrInterface format = op.getInput().getType().getFormat();
    FailureOr<Value> expanded = format.buildDequant(
        rewriter, op.getLoc(), unpack.getInput(), op.getType());
    if (failed(expanded))
      return failure();
    rewriter.replaceOp(op, *expanded);
    return success();
  }
};

struct QCExpandDequantizePass
    : mlir::qc::impl::QCExpandDequantizeBase<QCExpandDequantizePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandUnpackedDequantize>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // A dequantize of unpacked bytes left behind has a format without IR.
    WalkResult left = getOperation()->walk([](DequantizeOp op) {
      return op.getInput().getDefiningOp<UnpackOp>() ? WalkResult::interrupt()
                                                     : WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
