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

#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::qc::QCDialect, mlir::arith::ArithDialect,
                  mlir::cf::ControlFlowDialect, mlir::func::FuncDialect,
                  mlir::LLVM::LLVMDialect, mlir::math::MathDialect,
                  mlir::memref::MemRefDialect, mlir::quant::QuantDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect,
                  mlir::vector::VectorDialect>();
  mlir::qc::registerQCPasses();
  mlir::qc::registerQCToCPUPasses();
  qc::registerQCPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "qc quantization compiler driver\n",
                        registry));
}
