//===- quant-opt.cpp - qc's opt driver ------------------------------------===//
//
// Runs any slice of the qc pipeline: qc plus the upstream dialects and
// passes the pipeline uses.
//
//===----------------------------------------------------------------------===//
#include "dialects/QC/IR/QCDialect.h"
#include "dialects/QC/Transforms/Passes.h"
#include "lib/Conversion/QCToCPU/Passes.h"
#include "qc/Pipelines/Pipelines.h"

#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  qc::registerQCDialects(registry);
  mlir::qc::registerQCPasses();
  mlir::qc::registerQCToCPUPasses();
  qc::registerQCPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qc quantization compiler driver\n",
                        registry));
}
