//===- Pipelines.h - Named qc pipelines -------------------------*- C++ -*-===//
#ifndef QC_PIPELINES_PIPELINES_H
#define QC_PIPELINES_PIPELINES_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <optional>
#include <string>
#include <vector>

namespace qc {

struct QuantizePipelineOptions
    : mlir::PassPipelineOptions<QuantizePipelineOptions> {
  Option<std::string> calib{*this, "calib",
                            llvm::cl::desc("calibration text")};
  Option<std::string> imatrix{*this, "imatrix",
                              llvm::cl::desc("llama.cpp imatrix to use")};
  Option<std::string> recipe{*this, "recipe",
                             llvm::cl::desc("format recipe (JSON)")};
  Option<double> targetBpw{*this, "target-bpw",
                           llvm::cl::desc("bits-per-weight budget"),
                           llvm::cl::init(0.0)};
  Option<std::string> candidates{*this, "candidates",
                                 llvm::cl::desc("budget formats, ';'-separated")};
  Option<std::string> method{*this, "method",
                             llvm::cl::desc("rtn | imatrix | gptq"),
                             llvm::cl::init("imatrix")};
  Option<int64_t> ctx{*this, "ctx", llvm::cl::desc("calibration window"),
                      llvm::cl::init(256)};
  Option<int64_t> chunks{*this, "chunks",
                         llvm::cl::desc("calibration windows (0: all)"),
                         llvm::cl::init(0)};
  Option<bool> kl{*this, "kl",
                  llvm::cl::desc("budget: measure each tensor's output-KL "
                                 "sensitivity on the calibration text (float "
                                 "reference passes; off for large models: "
                                 "sampled-row errors alone)"),
                  llvm::cl::init(true)};
  Option<bool> xtx{*this, "xtx",
                   llvm::cl::desc("method=imatrix: record X^T X on the calibration "
                                  "text, for the output-error search (cols^2 "
                                  "doubles per distinct input; off for large models)"),
                   llvm::cl::init(true)};
  Option<std::string> compiled{
      *this, "compiled",
      llvm::cl::desc("calibrate on this library quant-compile built from the "
                     "float model")};
  Option<std::string> out{*this, "out",
                          llvm::cl::desc("quantized archive to write")};
  Option<std::string> table{
      *this, "table",
      llvm::cl::desc("also write qc-assign-formats' table to this JSON file")};
  Option<bool> pack{*this, "pack", llvm::cl::desc("end with qc-pack"),
                    llvm::cl::init(true)};
};

/// calibrate (when calib= or imatrix= is given) -> assign-formats (recipe=
/// or target-bpw=) -> quantize (method=; gptq block by block on calib=)
/// -> pack.
void buildQuantizePipeline(mlir::OpPassManager &pm,
                           const QuantizePipelineOptions &options);

struct LowerToLLVMPipelineOptions
    : mlir::PassPipelineOptions<LowerToLLVMPipelineOptions> {
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("native | avx512vnni | avxvnni | avx2 | generic"),
      llvm::cl::init("native")};
  Option<std::string> weights{*this, "weights",
                              llvm::cl::desc("archive the table records")};
  Option<std::string> kvType{
      *this, "kv-type",
      llvm::cl::desc("KV cache element type f16 | f32 | q8 (default: the IR's)")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("x86 features the code needs (the runtime checks)")};
};

/// qc-lower-graph-ops -> qc-lower-to-cpu: the kernels, still in the
/// vector/scf/linalg dialects (quant-compile --compile-to=kernels).
void buildKernelsPipeline(mlir::OpPassManager &pm,
                          const LowerToLLVMPipelineOptions &options);

/// The kernels pipeline -> linalg to loops ->
/// scf/vector/math/memref/arith/func to the LLVM dialect ->
/// qc-emit-kernel-table.
void buildLowerToLLVMPipeline(mlir::OpPassManager &pm,
                              const LowerToLLVMPipelineOptions &options);

/// While alive, sends `context`'s diagnostics to `lines` ("LOCATION:
/// error: MESSAGE") instead of stderr; does nothing when `lines` is null.
class DiagnosticLines {
public:
  DiagnosticLines(mlir::MLIRContext &context, std::vector<std::string> *lines);

private:
  std::optional<mlir::ScopedDiagnosticHandler> handler;
};

/// Adds the qc dialect and every upstream dialect the pipelines produce.
void registerQCDialects(mlir::DialectRegistry &registry);

/// Registers `qc-quantize-pipeline` and `qc-lower-to-llvm-pipeline` with the
/// pass registry.
void registerQCPipelines();

} // namespace qc

#endif // QC_PIPELINES_PIPELINES_H
