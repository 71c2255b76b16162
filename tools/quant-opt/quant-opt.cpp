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
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Signals.h"

#include <algorithm>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

/// Where `-o` (or --o, -o=, --o=) sends the output in args, or null.
std::string *outputArgument(std::vector<std::string> &args, std::string &prefix) {
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string &a = args[i];
    for (const char *flag : {"-o", "--o"}) {
      if (a == flag && i + 1 < args.size()) {
        prefix.clear();
        return &args[i + 1];
      }
      if (a.rfind(std::string(flag) + "=", 0) == 0) {
        prefix = std::string(flag) + "=";
        return &args[i];
      }
    }
  }
  return nullptr;
}

/// The passes that write a weights archive (option out=): without out=,
/// theirs follows -o (q4.mlir beside q4.safetensors), so two runs with
/// different outputs never share one archive. Not when that would be the
/// input's own archive (-o naming the input): the pass's default stays.
void archiveFollowsOutput(std::vector<std::string> &args, const std::string &output) {
  auto stem = [](const std::string &path) {
    size_t dot = path.rfind('.'), slash = path.rfind('/');
    return dot == std::string::npos || (slash != std::string::npos && dot < slash)
               ? path
               : path.substr(0, dot);
  };
  std::string archive = stem(output) + ".safetensors";
  for (size_t i = 1; i < args.size(); ++i)
    if (!args[i].empty() && args[i][0] != '-' && stem(args[i]) == stem(output))
      return;
  for (std::string &a : args)
    for (std::string pass : {"--qc-quantize-pipeline", "--qc-quantize",
                             "--qc-ternary-encode"}) {
      if (a == pass)
        a += "=out=" + archive;
      else if (a.rfind(pass + "=", 0) == 0 && a.find("out=") == std::string::npos)
        a += " out=" + archive;
    }
}

} // namespace

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  qc::registerQCDialects(registry);
  mlir::qc::registerQCPasses();
  mlir::qc::registerQCToCPUPasses();
  qc::registerQCPipelines();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  llvm::cl::AddExtraVersionPrinter(
      [](llvm::raw_ostream &os) { os << "quant-opt (qc) " << QC_VERSION << "\n"; });
  // The output goes to OUT.tmp.PID, renamed when the run succeeds: a
  // failed or interrupted run leaves an existing OUT as it was.
  std::vector<std::string> args(argv, argv + argc);
  std::string prefix, output, tmp;
  if (std::string *out = outputArgument(args, prefix)) {
    output = out->substr(prefix.size());
    if (output != "-") {
      tmp = output + ".tmp." + std::to_string(::getpid());
      *out = prefix + tmp;
      archiveFollowsOutput(args, output);
      llvm::sys::RemoveFileOnSignal(tmp);
    }
  }
  // An error is one line with its location, not the whole module after it.
  if (std::none_of(args.begin(), args.end(), [](const std::string &a) {
        return a.find("mlir-print-op-on-diagnostic") != std::string::npos;
      }))
    args.insert(args.begin() + 1, "--mlir-print-op-on-diagnostic=false");
  std::vector<char *> argvOut;
  for (std::string &a : args)
    argvOut.push_back(a.data());
  bool ok = mlir::succeeded(mlir::MlirOptMain(
      int(argvOut.size()), argvOut.data(), "qc quantization compiler driver\n", registry));
  if (!tmp.empty()) {
    if (ok) {
      if (std::error_code ec = llvm::sys::fs::rename(tmp, output)) {
        llvm::errs() << output << ": " << ec.message() << "\n";
        ok = false;
      }
    }
    llvm::sys::fs::remove(tmp);
    llvm::sys::DontRemoveFileOnSignal(tmp);
  }
  return ok ? 0 : 1;
}
