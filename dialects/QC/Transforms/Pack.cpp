//===- Pack.cpp - qc-pack -------------------------------------------------===//
#include "dialects/QC/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace mlir::qc {
#define GEN_PASS_DEF_QCPACK
#include "dialects/QC/Transforms/Passes.h.inc"
} // namespace mlir::qc

using namespace mlir;
using namespace mlir::qc;

namespace {

struct QCPackPass : mlir::qc::impl::QCPackBase<QCPackPass> {
  void runOnOperation() override {
    SmallVector<ParamOp> params;
    getOperation().walk([&](ParamOp p) {
      if (isa<QTensorType>(p.getType()))
        params.push_back(p);
    });
    for (ParamOp p : params) {
      auto type = cast<QTensorType>(p.getType());
      OpBuilder b(p);
      b.setInsertionPointAfter(p);
      auto bytes = RankedTensorType::get({type.getPackedBytes()},
                                         b.getIntegerType(8));
      auto unpack = UnpackOp::create(b, p.getLoc(), type, p.getResult());
      p.getResult().replaceAllUsesExcept(unpack.getResult(), unpack);
      p.getResult().setType(bytes);
    }
  }
};

} // namespace
