//===- Pipelines.cpp - Named qc pipelines ---------------------------------===//
#include "qc/Pipelines/Pipelines.h"
#include "dialects/QC/Transforms/Passes.h"
#include "lib/Conversion/QCToCPU/Passes.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"

namespace qc {

void buildQuantizePipeline(mlir::OpPassManager &pm,
                           const QuantizePipelineOptions &o) {
  using namespace mlir::qc;
  if (!o.calib.empty() || !o.imatrix.empty()) {
    QCCalibrateOptions c;
    // A given imatrix is the statistics; calib= then serves the KL
    // sensitivity and GPTQ's block-by-block Hessians only.
    if (o.imatrix.empty())
      c.calib = o.calib;
    c.imatrix = o.imatrix;
    c.ctx = o.ctx;
    c.chunks = o.chunks;
    c.compiled = o.compiled;
    // The statistics go beside the quantized archive, when it is named.
    if (!o.out.empty())
      c.out = o.out + ".imatrix";
    c.xtx = o.xtx && o.method == "imatrix" && o.imatrix.empty();
    pm.addPass(createQCCalibrate(c));
  }
  QCAssignFormatsOptions a;
  a.recipe = o.recipe;
  a.targetBpw = o.targetBpw;
  a.candidates = o.candidates;
  a.method = o.method;
  a.table = o.table;
  if (o.kl)
    a.klText = o.calib; // sensitivity on the calibration text
  pm.addPass(createQCAssignFormats(a));
  QCQuantizeOptions q;
  q.method = o.method;
  q.out = o.out;
  if (o.method == "gptq") { // block by block on the calibration text
    q.calib = o.calib;
    q.ctx = o.ctx;
    q.chunks = o.chunks;
  }
  pm.addPass(createQCQuantize(q));
  if (o.pack)
    pm.addPass(createQCPack());
}

void buildKernelsPipeline(mlir::OpPassManager &pm,
                          const LowerToLLVMPipelineOptions &o) {
  mlir::qc::QCLowerGraphOpsOptions g;
  g.kvType = o.kvType;
  pm.addPass(mlir::qc::createQCLowerGraphOps(g));
  mlir::qc::QCLowerToCPUOptions k;
  k.target = o.target;
  pm.addPass(mlir::qc::createQCLowerToCPU(k));
}

void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const LowerToLLVMPipelineOptions &o) {
  buildKernelsPipeline(pm, o);
  pm.addPass(mlir::createConvertLinalgToLoopsPass());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(mlir::createCSEPass());
  pm.addPass(mlir::createSCFToControlFlowPass());
  mlir::ConvertVectorToLLVMPassOptions v;
  v.reassociateFPReductions = true;
  pm.addPass(mlir::createConvertVectorToLLVMPass(v));
  pm.addPass(mlir::createConvertMathToLLVMPass());
  pm.addPass(mlir::createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(mlir::createArithToLLVMConversionPass());
  pm.addPass(mlir::createConvertControlFlowToLLVMPass());
  pm.addPass(mlir::createConvertFuncToLLVMPass());
  pm.addPass(mlir::createReconcileUnrealizedCastsPass());
  mlir::qc::QCEmitKernelTableOptions t;
  t.weights = o.weights;
  t.features = o.features;
  pm.addPass(mlir::qc::createQCEmitKernelTable(t));
}

void registerQCDialects(mlir::DialectRegistry &registry) {
  registry.insert<mlir::qc::QCDialect, mlir::arith::ArithDialect,
                  mlir::cf::ControlFlowDialect, mlir::func::FuncDialect,
                  mlir::LLVM::LLVMDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect,
                  mlir::memref::MemRefDialect, mlir::quant::QuantDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect,
                  mlir::vector::VectorDialect>();
}

void registerQCPipelines() {
  mlir::PassPipelineRegistration<LowerToLLVMPipelineOptions>(
      "qc-lower-to-llvm-pipeline",
      "Generate CPU kernels and lower them to the LLVM dialect with the "
      "runtime's kernel table",
      buildLowerToLLVMPipeline);
  mlir::PassPipelineRegistration<QuantizePipelineOptions>(
      "qc-quantize-pipeline",
      "Calibrate, assign formats, quantize and pack the weights of a model",
      buildQuantizePipeline);
}

} // namespace qc
