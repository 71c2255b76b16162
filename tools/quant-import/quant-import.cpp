//===- quant-import.cpp - Model file to qc module + weights archive -------===//
//
//   quant-import MODEL [--tokenizer TOK] -o OUT.mlir [--weights OUT.safetensors]
//
// MODEL: GGUF (v2/v3), llama2.c .bin (needs --tokenizer tokenizer.bin), a
// Hugging Face directory (config.json + safetensors) or a qc archive. The
// weights go to the archive (default: OUT.mlir with .safetensors), the IR
// names them with qc.param.
//
//===----------------------------------------------------------------------===//
#include "qc/Import/ImportModel.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdio>

namespace cl = llvm::cl;

static cl::OptionCategory options("quant-import options");
static cl::opt<std::string> inputPath(cl::Positional, cl::desc("<model>"),
                                      cl::Required, cl::cat(options));
static cl::opt<std::string> tokenizerPath("tokenizer",
                                          cl::desc("llama2.c tokenizer.bin"),
                                          cl::init(""), cl::cat(options));
static cl::opt<std::string> outputPath("o", cl::desc("output .mlir"),
                                       cl::value_desc("file"), cl::Required,
                                       cl::cat(options));
static cl::opt<std::string>
    weightsPath("weights", cl::desc("weights archive (default: <o>.safetensors)"),
                cl::init(""), cl::cat(options));

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(options);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "quant-import (qc) " << QC_VERSION << "\n";
  });
  cl::ParseCommandLineOptions(argc, argv, "qc model importer\n");
  std::string weights = weightsPath;
  qc::model::Model m;
  try {
    m = qc::importModel(inputPath, tokenizerPath, outputPath, weights);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "quant-import: error: %s\n", e.what());
    return 1;
  }
  if (weights.empty())
    weights = qc::defaultWeightsPath(outputPath);
  std::fprintf(stderr,
               "quant-import: %s: %s, %lld layers, dim %lld, %zu tensors -> "
               "%s + %s\n",
               inputPath.c_str(), m.config.arch.c_str(),
               (long long)m.config.layers, (long long)m.config.dim,
               m.tensors.size(), outputPath.c_str(), weights.c_str());
  return 0;
}
