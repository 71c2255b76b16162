//===- quant-compile.cpp - qc module or model file to a native artifact ---===//
//
//   quant-compile INPUT -o OUT [--emit=mlir|llvm|obj|lib|exe]
//                 [--compile-to=import|kernels|llvm] [--target=native|...]
//                 [--mcpu=native] [--kv-type=f16|f32|q8] [--weights=PATH]
//
// INPUT is a qc module (.mlir, from quant-import / quant-opt) or a model
// file the runtime reads directly (GGUF, safetensors archive). The work is
// qc::compileModel (lib/Compile); this is its command line.
//
//===----------------------------------------------------------------------===//
#include "qc/Compile/Compile.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"

#include <cstdio>

namespace cl = llvm::cl;

static cl::OptionCategory options("quant-compile options");
static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<input>"),
                                      cl::Required, cl::cat(options));
static cl::opt<std::string> outputPath("o", cl::desc("output file"),
                                       cl::value_desc("file"), cl::Required,
                                       cl::cat(options));
static cl::opt<std::string> emit("emit",
                                 cl::desc("mlir | llvm | obj | lib | exe | onnx "
                                          "(an ONNX graph's MatMul/Gemm "
                                          "weights as MatMulNBits)"),
                                 cl::init("exe"), cl::cat(options));
static cl::opt<std::string>
    compileTo("compile-to",
              cl::desc("stop after a phase and write its module (implies "
                       "--emit=mlir): import (the qc graph) | kernels (the "
                       "generated kernels, vector dialect) | llvm (the LLVM "
                       "dialect)"),
              cl::init(""), cl::cat(options));
static cl::opt<std::string>
    target("target", cl::desc("kernel target: native | avx512vbmi | avx512vnni | "
                              "avxvnni | avx2 | generic"),
           cl::init("native"), cl::cat(options));
static cl::opt<std::string>
    kvType("kv-type", cl::desc("KV cache element type: f16 | f32 | q8 (default: "
                               "the module's)"),
           cl::init(""), cl::cat(options));
static cl::opt<std::string> mcpu("mcpu", cl::desc("CPU to compile for"),
                                 cl::init("native"), cl::cat(options));
static cl::list<std::string>
    require("require", cl::CommaSeparated,
            cl::desc("further CPU features the program checks for at start"),
            cl::cat(options));
static cl::opt<std::string>
    weightsPath("weights",
                cl::desc("weights the program loads by default (default: the "
                         "module's archive, or the model file itself)"),
                cl::init(""), cl::cat(options));

static cl::opt<std::string>
    weightFormat("weight-format",
                 cl::desc("--emit=onnx: the format of the weights (4- or 8-bit "
                          "blocks MatMulNBits holds: uniform<4,32,sym,f16>, "
                          "Q4_0, Q8_0, ...)"),
                 cl::init("uniform<4,32,sym,f16>"), cl::cat(options));

static cl::opt<bool>
    kvInputs("kv-inputs",
             cl::desc("--emit=onnx of a language model: past keys/values as "
                      "inputs and present ones as outputs (generation in "
                      "ONNX Runtime)"),
             cl::init(false), cl::cat(options));

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(options);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "quant-compile (qc) " << QC_VERSION << " (LLVM " << LLVM_VERSION_STRING << ")\n";
  });
  cl::ParseCommandLineOptions(argc, argv, "qc model compiler\n");
  qc::CompileOptions o;
  o.input = inputPath;
  o.output = outputPath;
  o.emit = emit;
  o.compileTo = compileTo;
  o.target = target;
  o.kvType = kvType;
  o.mcpu = mcpu;
  o.weights = weightsPath;
  o.require.assign(require.begin(), require.end());
  o.weightFormat = weightFormat;
  o.kvInputs = kvInputs;
  qc::CompileResult r = qc::compileModel(o);
  if (!r.error.empty()) {
    std::fprintf(stderr, "quant-compile: error: %s\n", r.error.c_str());
    return 1;
  }
  std::fputs(r.report.c_str(), stderr);
  if (r.weights.empty())
    std::fprintf(stderr, "quant-compile: %s -> %s\n", inputPath.c_str(),
                 outputPath.c_str());
  else
    std::fprintf(stderr, "quant-compile: %s -> %s (weights: %s)\n",
                 inputPath.c_str(), outputPath.c_str(), r.weights.c_str());
  return 0;
}
