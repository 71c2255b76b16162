//===- quant-export-gguf.cpp - Any model qc reads, as a GGUF file ---------===//
//
//   quant-export-gguf MODEL [--tokenizer TOK] -o OUT.gguf
//
// MODEL is anything quant-import reads, or a qc module (.mlir: the archive
// it names), typically after quantization: packed #qc.gguf tensors are
// copied byte for byte.
//
//===----------------------------------------------------------------------===//
#include "qc/Export/GGUFWriter.h"
#include "qc/Support/Flags.h"

#include <cstdio>
#include <string>

namespace {

const char *kUsage =
    "usage: quant-export-gguf MODEL [--tokenizer TOK] -o OUT.gguf\n"
    "Writes a model qc reads (a qc module or archive, GGUF, llama2.c with\n"
    "--tokenizer, a Hugging Face directory) as GGUF v3 for llama.cpp; every\n"
    "tensor must be F32, F16, BF16 or a ggml type.\n"
    "  -o, --output OUT.gguf  the file to write (whole or not at all)\n"
    "  --tokenizer TOK        tokenizer.bin of a llama2.c checkpoint\n"
    "  -h, --help, --version\n"
    "Options take their value as '--flag value' or '--flag=value'.\n";

int usage(const std::string &why) {
  std::fprintf(stderr, "quant-export-gguf: %s\n%s", why.c_str(), kUsage);
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  std::string input, tokenizer, output;
  qc::flags::answerHelpAndVersion(argc, argv, "quant-export-gguf", kUsage);
  for (int i = 1; i < argc; ++i) {
    qc::flags::Arg arg = qc::flags::split(argv[i]);
    const std::string &a = arg.name;
    if (a == "-o" || a == "--output" || a == "--tokenizer") {
      std::optional<std::string> v = qc::flags::value(arg, i, argc, argv);
      if (!v)
        return usage(a + " needs a value");
      (a == "--tokenizer" ? tokenizer : output) = *v;
    } else if (!a.empty() && a[0] != '-' && input.empty()) {
      input = a;
    } else {
      return usage("unexpected argument '" + a + "'");
    }
  }
  if (input.empty() || output.empty())
    return usage(input.empty() ? "MODEL is required" : "-o OUT.gguf is required");
  try {
    qc::model::Model m = qc::model::readModel(input, tokenizer);
    qc::writeGGUF(m, output);
    std::fprintf(stderr, "quant-export-gguf: %s -> %s (%zu tensors)\n",
                 input.c_str(), output.c_str(), m.tensors.size());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "quant-export-gguf: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
