//===- Passes.h - qc to CPU conversion passes -------------------*- C++ -*-===//
#ifndef QC_LIB_CONVERSION_QCTOCPU_PASSES_H
#define QC_LIB_CONVERSION_QCTOCPU_PASSES_H

#include "dialects/QC/IR/QCDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::qc {

#define GEN_PASS_DECL
#include "lib/Conversion/QCToCPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "lib/Conversion/QCToCPU/Passes.h.inc"

} // namespace mlir::qc

#endif // QC_LIB_CONVERSION_QCTOCPU_PASSES_H
