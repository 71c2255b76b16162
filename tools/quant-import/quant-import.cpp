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
#include "qc/Import/ModelToIR.h"
#include "qc/Model/Archive.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
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

static std::string defaultWeights(const std::string &mlir) {
  std::string base = mlir;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".mlir") == 0)
    base.resize(base.size() - 5);
  return base + ".safetensors";
}

int main(int argc, char **argv) {
  cl::HideUnrelatedOptions(options);
  cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "quant-import (qc) " << QC_VERSION << "\n";
  });
  cl::ParseCommandLineOptions(argc, argv, "qc model importer\n");
  std::string weights =
      weightsPath.empty() ? defaultWeights(outputPath) : std::string(weightsPath);
  qc::model::Model m;
  try {
    // Mapped: the archive is written tensor by tensor from the source file.
    m = qc::model::readModel(inputPath, tokenizerPath, /*mapWeights=*/true);
    qc::model::writeArchive(m, weights);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "quant-import: error: %s\n", e.what());
    return 1;
  }
  mlir::MLIRContext context;
  // The IR names the archive relative to the .mlir file when they sit
  // side by side, so the pair can be moved together.
  std::string ref = weights;
  size_t slash = outputPath.getValue().rfind('/');
  std::string dir = slash == std::string::npos
                        ? ""
                        : outputPath.getValue().substr(0, slash + 1);
  if (!dir.empty() && ref.compare(0, dir.size(), dir) == 0)
    ref = ref.substr(dir.size());
  auto module = qc::buildModule(context, m, ref);
  if (failed(mlir::verify(*module))) {
    std::fprintf(stderr, "quant-import: error: the built module does not "
                         "verify\n");
    return 1;
  }
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  try {
    if (outputPath == "-")
      std::fwrite(text.data(), 1, text.size(), stdout);
    else
      qc::model::writeFileAtomically(outputPath, text);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "quant-import: error: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr,
               "quant-import: %s: %s, %lld layers, dim %lld, %zu tensors -> "
               "%s + %s\n",
               inputPath.c_str(), m.config.arch.c_str(),
               (long long)m.config.layers, (long long)m.config.dim,
               m.tensors.size(), outputPath.c_str(), weights.c_str());
  return 0;
}
