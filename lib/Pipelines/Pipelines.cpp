//===- Pipelines.cpp - Named qc pipelines ---------------------------------===//
#include "qc/Pipelines/Pipelines.h"
#include "dialects/QC/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

namespace qc {

void buildQuantizePipeline(mlir::OpPassManager &pm,
                           const QuantizePipelineOptions &o) {
  using namespace mlir::qc;
  if (!o.calib.empty() || !o.imatrix.empty()) {
    QCCalibrateOptions c;
    c.calib = o.calib;
    c.imatrix = o.imatrix;
    c.ctx = o.ctx;
    c.chunks = o.chunks;
    c.xtx = o.method == "gptq" && o.imatrix.empty();
    pm.addPass(createQCCalibrate(c));
  }
  QCAssignFormatsOptions a;
  a.recipe = o.recipe;
  a.targetBpw = o.targetBpw;
  a.candidates = o.candidates;
  a.method = o.method;
  a.klText = o.calib; // sensitivity on the calibration text
  pm.addPass(createQCAssignFormats(a));
  QCQuantizeOptions q;
  q.method = o.method;
  q.out = o.out;
  pm.addPass(createQCQuantize(q));
  if (o.pack)
    pm.addPass(createQCPack());
}

void registerQCPipelines() {
  mlir::PassPipelineRegistration<QuantizePipelineOptions>(
      "qc-quantize-pipeline",
      "Calibrate, assign formats, quantize and pack the weights of a model",
      buildQuantizePipeline);
}

} // namespace qc
