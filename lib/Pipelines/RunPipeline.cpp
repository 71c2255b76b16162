//===- RunPipeline.cpp - quant-opt's work on one file, in-process ---------===//
#include "qc/Pipelines/RunPipeline.h"
#include "dialects/QC/Transforms/Passes.h"
#include "lib/Conversion/QCToCPU/Passes.h"
#include "qc/Model/Archive.h"
#include "qc/Pipelines/Pipelines.h"

#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

namespace qc {

DiagnosticLines::DiagnosticLines(mlir::MLIRContext &context,
                                 std::vector<std::string> *lines) {
  if (!lines)
    return;
  handler.emplace(&context, [lines](mlir::Diagnostic &d) {
    std::string line;
    llvm::raw_string_ostream os(line);
    // As quant-opt prints them: FILE:LINE:COL, else MLIR's own form.
    if (auto at = mlir::dyn_cast<mlir::FileLineColLoc>(d.getLocation()))
      os << at.getFilename().getValue() << ":" << at.getLine() << ":"
         << at.getColumn();
    else if (!mlir::isa<mlir::UnknownLoc>(d.getLocation()))
      os << d.getLocation();
    if (!mlir::isa<mlir::UnknownLoc>(d.getLocation()))
      os << ": ";
    os
       << (d.getSeverity() == mlir::DiagnosticSeverity::Error     ? "error"
           : d.getSeverity() == mlir::DiagnosticSeverity::Warning ? "warning"
                                                                  : "note")
       << ": " << d.str();
    lines->push_back(os.str());
    return mlir::success();
  });
}

std::string runPipelineOnFile(const std::string &inputMlir,
                              const std::string &pipeline,
                              const std::string &outputMlir,
                              std::vector<std::string> *diagnostics) {
  static std::once_flag registered;
  std::call_once(registered, [] {
    mlir::qc::registerQCPasses();
    mlir::qc::registerQCToCPUPasses();
    registerQCPipelines();
    mlir::registerCanonicalizerPass();
    mlir::registerCSEPass();
  });
  mlir::DialectRegistry registry;
  registerQCDialects(registry);
  mlir::MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  DiagnosticLines collect(context, diagnostics);
  llvm::SourceMgr sources;
  auto module =
      mlir::parseSourceFile<mlir::ModuleOp>(inputMlir, sources, &context);
  if (!module)
    return "cannot read the module " + inputMlir;
  mlir::PassManager pm(&context);
  std::string parseError;
  llvm::raw_string_ostream errors(parseError);
  // The passes go straight into the module's pass manager (wrapped in
  // builtin.module(...) they would nest and run on nested modules only).
  if (failed(mlir::parsePassPipeline(pipeline, pm, errors)))
    return "bad pipeline '" + pipeline + "': " + errors.str();
  if (failed(pm.run(*module)))
    return "the pipeline failed on " + inputMlir;
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  try {
    model::writeFileAtomically(outputMlir, os.str());
  } catch (const std::exception &e) {
    return e.what();
  }
  return {};
}

} // namespace qc
