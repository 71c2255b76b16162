//===- Compile.h - A qc module or model file to a native artifact -*- C++ -*-===//
//
// What quant-compile does, callable in-process (quant-compile, the Python
// package). Plain C++ types only: callers need no MLIR headers.
//
//===----------------------------------------------------------------------===//
#ifndef QC_COMPILE_COMPILE_H
#define QC_COMPILE_COMPILE_H

#include <string>
#include <vector>

namespace qc {

struct CompileOptions {
  std::string input;  // a qc module (.mlir) or a model file the runtime reads
  std::string output;
  std::string emit = "exe";  // mlir | llvm | obj | lib | exe | onnx
  std::string compileTo;     // stop after: import | kernels | llvm
  std::string target = "native";
  std::string kvType;        // f16 | f32 | q8; empty: the module's
  std::string mcpu = "native";
  std::string weights;       // loaded by default; empty: the module's
  std::vector<std::string> require; // further CPU features checked at start
  bool progress = true;      // a line per phase on stderr
  /// --emit=onnx of an ONNX graph: the format of its MatMul/Gemm weights.
  std::string weightFormat = "uniform<4,32,sym,f16>";
  /// --emit=onnx of a language model: past keys/values in, present out.
  bool kvInputs = false;
};

struct CompileResult {
  std::string error;   // empty on success
  std::string weights; // the archive the artifact loads by default
  std::string report;  // --emit=onnx: one line per weight, and the sizes
};

/// Compiles `o.input` to `o.output`; the output is written under a
/// temporary name and renamed when complete. MLIR's diagnostics go to
/// `diagnostics` ("LOCATION: error: MESSAGE") when given, else to stderr.
CompileResult compileModel(const CompileOptions &o,
                           std::vector<std::string> *diagnostics = nullptr);

} // namespace qc

#endif // QC_COMPILE_COMPILE_H
